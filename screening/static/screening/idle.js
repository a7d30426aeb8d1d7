// Idle timeout for signed-in staff: warn two minutes before the session expires, and extend it with one click
// ("Stay signed in") without leaving the page, so nothing typed is lost. The server enforces the timeout.
(function () {
  var dialog = document.getElementById("idle-dialog");
  if (!dialog) { return; }
  var seconds = parseInt(dialog.dataset.idleSeconds, 10);
  var warnBefore = Math.min(120, Math.floor(seconds / 2));
  var token = dialog.querySelector("input[name=csrfmiddlewaretoken]").value;
  var stay = dialog.querySelector("[data-stay]");
  var warnTimer, expireTimer, expired = false;

  // Signed out: say so, and keep a button that closes the (modal) dialog so the typed text can be copied.
  function signedOut() {
    expired = true;
    clearTimeout(warnTimer);
    clearTimeout(expireTimer);
    // The words come from the template, translated there.
    dialog.querySelector("#idle-title").textContent = dialog.dataset.signedOutTitle;
    dialog.querySelector("[data-idle-message]").textContent = dialog.dataset.signedOutMessage;
    stay.textContent = dialog.dataset.closeLabel;
    if (dialog.open) { dialog.close(); }
    dialog.showModal();  // (re)opened, so that screen readers announce the new title
  }

  function schedule() {
    clearTimeout(warnTimer);
    clearTimeout(expireTimer);
    warnTimer = setTimeout(function () { if (!dialog.open) { dialog.showModal(); } }, (seconds - warnBefore) * 1000);
    expireTimer = setTimeout(signedOut, seconds * 1000);
  }

  dialog.querySelector("form").addEventListener("submit", function () {
    if (expired) { return; }
    // Only 204 means the session was extended: a session ended elsewhere is redirected to the login page (200).
    fetch(dialog.dataset.keepaliveUrl, { method: "POST", headers: { "X-CSRFToken": token }, credentials: "same-origin" })
      .then(function (response) { if (response.status === 204) { schedule(); } else { signedOut(); } });
  });
  schedule();
})();

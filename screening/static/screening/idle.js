// Idle timeout for signed-in staff: warn two minutes before the session expires, and extend it with one click
// ("Stay signed in") without leaving the page, so nothing typed is lost. The server enforces the timeout.
(function () {
  var dialog = document.getElementById("idle-dialog");
  if (!dialog) { return; }
  var seconds = parseInt(dialog.dataset.idleSeconds, 10);
  var warnBefore = Math.min(120, Math.floor(seconds / 2));
  var token = dialog.querySelector("input[name=csrfmiddlewaretoken]").value;
  var warnTimer, expireTimer;

  function schedule() {
    clearTimeout(warnTimer);
    clearTimeout(expireTimer);
    warnTimer = setTimeout(function () { if (!dialog.open) { dialog.showModal(); } }, (seconds - warnBefore) * 1000);
    expireTimer = setTimeout(function () {
      dialog.querySelector("[data-idle-message]").textContent =
        "You have been signed out. Copy anything you typed, then sign in again.";
      dialog.querySelector("[data-stay]").hidden = true;
      if (!dialog.open) { dialog.showModal(); }
    }, seconds * 1000);
  }

  dialog.querySelector("form").addEventListener("submit", function () {
    fetch(dialog.dataset.keepaliveUrl, { method: "POST", headers: { "X-CSRFToken": token }, credentials: "same-origin" })
      .then(function (response) { if (response.ok) { schedule(); } });
  });
  schedule();
})();

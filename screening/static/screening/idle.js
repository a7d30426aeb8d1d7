// Idle timeout for signed-in staff: warn two minutes before the session expires, and extend it with one click
// ("Stay signed in", or Esc) without leaving the page, so nothing typed is lost; typing extends it too. The server
// enforces the timeout.
// Every request from any tab extends the session, so tabs tell each other when they last spoke to the server
// (localStorage): a tab left alone while another is in use is not signed out. Signing out in one tab tells the
// others too, so that a decision typed in one of them is not sent to the sign-in page and lost.
(function () {
  var ACTIVITY = "hsct-staff-activity";
  var SIGNED_OUT = "hsct-staff-signed-out";

  function record() {  // this tab has just spoken to the server
    try { localStorage.setItem(ACTIVITY, String(Date.now())); } catch (e) { /* private mode: this tab alone */ }
  }

  var dialog = document.getElementById("idle-dialog");
  if (!dialog) { record(); return; }
  var seconds = parseInt(dialog.dataset.idleSeconds, 10);
  var warnBefore = Math.min(120, Math.floor(seconds / 2));
  var token = dialog.querySelector("input[name=csrfmiddlewaretoken]").value;
  var stay = dialog.querySelector("[data-stay]");
  var warnTimer, expireTimer, expired = false;

  function lastActivity() {
    try { return parseInt(localStorage.getItem(ACTIVITY), 10) || 0; } catch (e) { return 0; }
  }

  function active() {
    record();
    schedule(Date.now());
  }

  // Signed out: say so, and keep a button that closes the (modal) dialog so the typed text can be copied. What the
  // page shows about patients goes (data-hide); its forms stay, with what was typed, but can no longer be sent: a
  // form sent now would lead to the sign-in page and lose the text.
  function signedOut() {
    expired = true;
    clearTimeout(warnTimer);
    clearTimeout(expireTimer);
    if (dialog.dataset.hide) {
      document.querySelectorAll(dialog.dataset.hide).forEach(function (element) { element.hidden = true; });
    }
    document.querySelectorAll("form:not([method=dialog]) [type=submit]").forEach(function (button) {
      button.disabled = true;
    });
    // No longer "Signed in as ..." (nor the admin's own user links); a way to sign in again, back to this page.
    document.querySelectorAll("[data-signed-in], #user-tools").forEach(function (element) { element.hidden = true; });
    dialog.querySelector("[data-sign-in]").hidden = false;
    // The words come from the template, translated there.
    dialog.querySelector("#idle-title").textContent = dialog.dataset.signedOutTitle;
    dialog.querySelector("[data-idle-message]").textContent = dialog.dataset.signedOutMessage;
    stay.textContent = dialog.dataset.closeLabel;
    if (dialog.open) { dialog.close(); }
    open();  // (re)opened, so that screen readers announce the new title
  }

  // Opened, the focus goes to "Stay signed in" (signed out: "Close", not "Sign in again": a reflexive Enter must not
  // leave the typed text behind). A dialog taller than the window (400% zoom) would then open scrolled down to that
  // button, its heading out of sight: there the dialog itself (named by its heading) takes the focus, shown from
  // its top; Tab reaches the buttons, and Esc works as before.
  function open() {
    dialog.showModal();
    if (dialog.scrollHeight > dialog.clientHeight) {
      dialog.focus();
      dialog.scrollTop = 0;
    } else {
      stay.focus();
    }
  }

  // Timers from the last request of any tab; when one fires, another tab may have been used since.
  function schedule(from) {
    clearTimeout(warnTimer);
    clearTimeout(expireTimer);
    var left = from + seconds * 1000 - Date.now();
    warnTimer = setTimeout(function () {
      if (lastActivity() > from) { schedule(lastActivity()); } else if (!dialog.open) { open(); }
    }, left - warnBefore * 1000);
    expireTimer = setTimeout(function () {
      if (lastActivity() > from) { schedule(lastActivity()); } else { signedOut(); }
    }, left);
  }

  window.addEventListener("storage", function (event) {  // another tab spoke to the server, or signed out
    if (expired) { return; }
    if (event.key === SIGNED_OUT) { signedOut(); return; }
    if (event.key !== ACTIVITY) { return; }
    if (dialog.open) { dialog.close(); }
    schedule(lastActivity());
  });

  var asked = 0;  // when this tab last asked to extend the session

  function keepAlive() {
    if (expired) { return; }
    asked = Date.now();
    // Only 204 means the session was extended (and only then do the timers move): a session ended elsewhere is
    // redirected to the login page (200); a request that fails (offline) changes nothing, and the warning comes.
    fetch(dialog.dataset.keepaliveUrl, { method: "POST", headers: { "X-CSRFToken": token }, credentials: "same-origin" })
      .then(function (response) { if (response.status === 204) { active(); } else { signedOut(); } })
      .catch(function () { /* not extended: the timers stand */ });
  }

  dialog.querySelector("form").addEventListener("submit", keepAlive);
  // Esc closes the warning as "Stay signed in" does: someone who dismisses it is there, getting on with the page.
  dialog.addEventListener("cancel", keepAlive);
  // Typing is activity too: a long message being written keeps the session (one request a minute at most).
  var typingEvery = Math.min(60, seconds / 4) * 1000;
  document.addEventListener("input", function () {
    var now = Date.now();
    if (!dialog.open && now - Math.max(lastActivity(), asked) > typingEvery) { keepAlive(); }
  });
  // The review pages' sign-out button, and the admin's.
  document.querySelectorAll("form[data-sign-out], #logout-form").forEach(function (form) {
    form.addEventListener("submit", function () {
      try { localStorage.setItem(SIGNED_OUT, String(Date.now())); } catch (e) { /* private mode: this tab alone */ }
    });
  });
  active();
})();

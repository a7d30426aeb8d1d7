// A form is sent once: a second press a moment later (a tremor's double tap, before the next page has come) is not
// sent again. The browser would show the second press's page and drop the first's, and with it a code that is shown
// only once. The buttons stay as they are (a disabled button is not sent with the form, and Back, Save and Continue
// are told apart by the button pressed); after a few seconds, or on a page brought back by the Back button, the form
// can be sent again (a connection that failed). Without JavaScript, the server copes with the second press.
(function () {
  var AGAIN_AFTER = 5000;  // milliseconds

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (event.defaultPrevented || (form.getAttribute("method") || "").toLowerCase() !== "post") { return; }
    var sentAt = Number(form.getAttribute("data-sent-at"));
    if (sentAt && Date.now() - sentAt < AGAIN_AFTER) {
      event.preventDefault();
      return;
    }
    form.setAttribute("data-sent-at", String(Date.now()));
  });

  window.addEventListener("pageshow", function (event) {
    if (event.persisted) {
      document.querySelectorAll("form[data-sent-at]").forEach(function (form) { form.removeAttribute("data-sent-at"); });
    }
  });
})();

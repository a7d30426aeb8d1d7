// The "Print this result" button (no inline script: the CSP forbids it). Without JavaScript, the browser's own
// print command gives the same print layout; print.css opens the closed parts where the browser can (Chromium).
document.querySelectorAll("[data-print]").forEach(function (button) {
  button.addEventListener("click", function () { window.print(); });
});

// Paper cannot be clicked: every closed "Why it matters" and note prints open, and closes again afterwards. The other
// sets' tables print only when opened (print.css): all of them would make some 40 pages.
var openedForPrint = [];
window.addEventListener("beforeprint", function () {
  openedForPrint = Array.from(document.querySelectorAll("details:not([open]):not(.set-details)"));
  openedForPrint.forEach(function (details) { details.open = true; });
});
window.addEventListener("afterprint", function () {
  openedForPrint.forEach(function (details) { details.open = false; });
  openedForPrint = [];
});

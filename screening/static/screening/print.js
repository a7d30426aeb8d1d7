// The "Print this result" button (no inline script: the CSP forbids it). Without JavaScript, the browser's own
// print command gives the same print layout.
document.querySelectorAll("[data-print]").forEach(function (button) {
  button.addEventListener("click", function () { window.print(); });
});

// A box with a limit (data-limit) counts the characters left as they are typed, in its hint ("Up to 5,000
// characters" without JavaScript), which describes the box: a screen reader reads the count with the box. It hears
// the count as it changes only near the limit, once typing pauses, from a polite live region of its own. The server
// checks the limit whatever this says; its message stays next to the box. The words come from the box's data-*,
// translated there.
(function () {
  var NEAR = 0.1;  // of the limit: from 500 characters left of 5,000, and beyond the limit
  var PAUSE = 1000;  // ms without typing before the count is announced

  document.querySelectorAll("textarea[data-limit]").forEach(function (box) {
    var limit = parseInt(box.dataset.limit, 10);
    var hint = document.getElementById(box.id + "_helptext");
    if (!hint) { return; }
    var live = document.createElement("div");
    live.className = "visually-hidden";
    live.setAttribute("aria-live", "polite");
    hint.after(live);
    var timer;

    function length() {  // as the server receives it: a line break is sent as two characters, an emoji as one
      return Array.from(box.value.replace(/\r?\n/g, "\r\n")).length;
    }

    function words(left) {
      var n = Math.abs(left);
      var text = left < 0 ? (n === 1 ? box.dataset.overOne : box.dataset.over)
        : (n === 1 ? box.dataset.leftOne : box.dataset.left);
      return text.replace("{n}", n.toLocaleString(document.documentElement.lang || undefined));
    }

    function count(typed) {  // not typed: the page as it opens, whose error summary says what is wrong
      var left = limit - length();
      hint.textContent = words(left);
      hint.classList.toggle("over-limit", left < 0);
      clearTimeout(timer);
      if (typed && left <= limit * NEAR) {
        timer = setTimeout(function () { live.textContent = words(left); }, PAUSE);
      }
    }

    box.addEventListener("input", function () { count(true); });
    count(false);
  });
})();

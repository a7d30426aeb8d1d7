// A table that scrolls sideways on its own (a wide table on a narrow screen) is a Tab stop, so that keyboard users
// can scroll it with the arrow keys; shown as cards (site.css, narrow screens and high zoom) it does not scroll, and
// a Tab stop there only adds one more press. The markup ({% scroll_region %}, screening/templatetags/scroll_region.py)
// says tabindex="0" (without JavaScript, the safe side); this keeps it only while the region is wider inside than
// out, and checks again whenever its size or content changes (a resize, a zoom, a "Why it matters" opened).
(function () {
  var regions = document.querySelectorAll("[data-scroll-region]");
  if (!regions.length) { return; }

  function update(region) {
    if (region.scrollWidth > region.clientWidth) {
      region.setAttribute("tabindex", "0");
    } else if (document.activeElement !== region) {  // focused (then zoomed): kept until focus leaves, not lost
      region.removeAttribute("tabindex");
    }
  }

  function updateAll() { regions.forEach(update); }

  if (window.ResizeObserver) {  // each region and its table, as either changes size (a resize or zoom included)
    var observer = new ResizeObserver(function (entries) {
      entries.forEach(function (entry) { update(entry.target.closest("[data-scroll-region]")); });
    });
    regions.forEach(function (region) {
      observer.observe(region);
      if (region.firstElementChild) { observer.observe(region.firstElementChild); }  // the table grows or shrinks
    });
  } else {  // without it: on a resize, and as a <details> opens (a table in a closed one has no width until then)
    window.addEventListener("resize", updateAll);
    document.addEventListener("toggle", updateAll, true);
  }
  regions.forEach(function (region) { region.addEventListener("blur", function () { update(region); }); });
  updateAll();
})();

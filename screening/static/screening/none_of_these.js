// A checkbox question's own "none" box (the one after its "or", templates/bootstrap5/layout/radio_checkbox_select.html)
// and its other boxes exclude each other: ticking a condition or a medicine unticks "None of these" left ticked from
// before, and ticking "none" unticks the others, rather than both standing ticked until Continue says so. Nothing is
// announced and focus stays on the box just ticked. Without JavaScript, the server's message asks to untick one.
(function () {
  var NONE = ".none-of-these + .form-check > input[type=checkbox]";

  document.addEventListener("change", function (event) {
    var ticked = event.target;
    var question = ticked.closest("fieldset");
    var none = question && ticked.type === "checkbox" && ticked.checked && question.querySelector(NONE);
    if (!none) { return; }
    question.querySelectorAll("input[type=checkbox]").forEach(function (box) {
      if (box.name === ticked.name && (ticked === none ? box !== none : box === none)) { box.checked = false; }
    });
  });
})();

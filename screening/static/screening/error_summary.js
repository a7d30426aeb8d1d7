// A link in the error summary goes to its field, as it does without JavaScript, but shows the question with it:
// the browser alone scrolls the field itself to the top edge, and the question (the legend of a radio or checkbox
// group, or a box's label), its hint and its message end up above the screen. Here the legend or label comes to the
// top, and the field below it takes the focus, as GOV.UK's error summary does.
(function () {
  document.addEventListener("click", function (event) {
    var link = event.target.closest(".error-summary a[href^='#']");
    var field = link && document.getElementById(decodeURIComponent(link.hash.slice(1)));
    if (!field) { return; }
    var group = field.closest("fieldset");
    var question = (group && group.querySelector("legend"))
      || document.querySelector("label[for='" + CSS.escape(field.id) + "']") || field;
    event.preventDefault();
    question.scrollIntoView();
    field.focus({preventScroll: true});
  });
})();

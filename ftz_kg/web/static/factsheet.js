// Fact sheets: the "copy" buttons beside the IRI and the citation. Without JavaScript the buttons stay
// hidden and both texts remain selectable; with it, a click copies the text and says so.
(function () {
  "use strict";
  var status = document.querySelector(".fs-copy-status");

  function selectText(node) {
    var range = document.createRange();
    range.selectNodeContents(node);
    var selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
  }

  function copyBySelection(node) {
    selectText(node);
    try { return document.execCommand("copy"); } catch (e) { return false; }
  }

  document.querySelectorAll("button.fs-copy[data-copy]").forEach(function (button) {
    var target = document.getElementById(button.getAttribute("data-copy"));
    if (!target) { return; }
    var label = button.textContent;
    button.hidden = false;
    button.addEventListener("click", function () {
      var text = target.textContent.trim();
      function done() {
        var message = button.getAttribute("data-copied");
        button.textContent = message;
        if (status) { status.textContent = message; }
        window.setTimeout(function () { button.textContent = label; }, 2000);
      }
      function fallback() { if (copyBySelection(target)) { done(); } }
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(text).then(done, fallback);
      } else {
        fallback();
      }
    });
  });
})();

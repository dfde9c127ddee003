// Copy buttons: a `[data-copy]` button copies the text of the read-only field whose id it names
// (an invitation link on /admin/invitations) and says "Link copied." in #toasts (huddle:toast).
// Without a script the buttons stay hidden and the field's text is there to select and copy; a
// browser that refuses the clipboard (a page served over plain http on the network) gets the
// text selected instead, ready for Ctrl+C.
(function () {
  "use strict";

  function reveal(root) {
    root.querySelectorAll("button[data-copy][hidden]").forEach(function (button) {
      button.hidden = false;
    });
  }

  function said(message) {
    document.dispatchEvent(new CustomEvent("huddle:toast", { detail: { message: message } }));
  }

  function selectAll(field) {
    field.focus();
    field.select();
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("button[data-copy]");
    if (!button) return;
    var field = document.getElementById(button.getAttribute("data-copy"));
    if (!field) return;
    if (!navigator.clipboard || !window.isSecureContext) {
      selectAll(field);
      said("Link selected: press Ctrl+C (⌘C) to copy it.");
      return;
    }
    navigator.clipboard.writeText(field.value).then(function () {
      said("Link copied.");
    }, function () {
      selectAll(field);
      said("Link selected: press Ctrl+C (⌘C) to copy it.");
    });
  });

  document.addEventListener("htmx:afterSwap", function (event) { reveal(event.target); });
  reveal(document);
})();

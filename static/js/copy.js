// Copy buttons: a `[data-copy]` button copies the text of the read-only field whose id it names
// (an invitation link on /admin/invitations) and says "Link copied." in #toasts (huddle:toast).
// A message's code block (`[data-code]`, app/chat/markdown.py) has a `[data-copy-code]` button
// that copies the code in it: "Code copied.".
// Without a script the buttons stay hidden and the text is there to select and copy; a browser
// that refuses the clipboard (a page served over plain http on the network) gets the text
// selected instead, ready for Ctrl+C.
(function () {
  "use strict";

  function reveal(root) {
    root.querySelectorAll("button[data-copy][hidden], button[data-copy-code][hidden]").forEach(function (button) {
      button.hidden = false;
    });
  }

  function said(message) {
    document.dispatchEvent(new CustomEvent("huddle:toast", { detail: { message: message } }));
  }

  // What a button copies: its text, what it is called, and how to select it by hand.
  function target(button) {
    if (button.hasAttribute("data-copy-code")) {
      var block = button.closest("[data-code]");
      var code = block && block.querySelector("pre");
      if (!code) return null;
      return { text: code.textContent, name: "Code", select: function () {
        code.focus();
        window.getSelection().selectAllChildren(code);
      } };
    }
    var field = document.getElementById(button.getAttribute("data-copy"));
    if (!field) return null;
    return { text: field.value, name: "Link", select: function () {
      field.focus();
      field.select();
    } };
  }

  function selected(what) {
    what.select();
    said(what.name + " selected: press Ctrl+C (⌘C) to copy it.");
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("button[data-copy], button[data-copy-code]");
    if (!button) return;
    var what = target(button);
    if (!what) return;
    if (!navigator.clipboard || !window.isSecureContext) {
      selected(what);
      return;
    }
    navigator.clipboard.writeText(what.text).then(function () {
      said(what.name + " copied.");
    }, function () {
      selected(what);
    });
  });

  // Messages arrive by swaps and by live frames (a message cursor.js replaced in place included).
  ["htmx:afterSwap", "htmx:oobAfterSwap", "htmx:wsAfterMessage"].forEach(function (name) {
    document.addEventListener(name, function () { reveal(document); });
  });
  reveal(document);
})();

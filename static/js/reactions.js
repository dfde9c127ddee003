// Reactions' palette (templates/chat/_reaction_palette.html, fetched into a message's
// #message-<id>-palette by its "Add reaction" link): typing in its name field
// ([data-reaction-filter]) hides the emoji buttons ([data-emoji-name]) whose names have no word
// starting so; its Close button ([data-reaction-close], shown only with this script; Escape
// presses it, keys.js) empties the palette and puts the focus back on "Add reaction"
// ([data-reaction-add]). Choosing an emoji posts the palette's form: htmx swaps the message.
(function () {
  "use strict";

  function matches(name, typed) {
    if (!typed) return true;
    return (" " + name).indexOf(" " + typed) !== -1;
  }

  document.addEventListener("input", function (event) {
    var field = event.target;
    if (!field.matches("[data-reaction-filter]")) return;
    var typed = field.value.trim().toLowerCase().replace(/^:|:$/g, "");
    var picker = field.closest("[data-reaction-picker]");
    picker.querySelectorAll("[data-emoji-name]").forEach(function (button) {
      button.hidden = !matches(button.dataset.emojiName, typed);
    });
  });

  document.addEventListener("click", function (event) {
    var close = event.target.closest("[data-reaction-close]");
    if (!close) return;
    var reactions = close.closest("[data-reactions]");
    var palette = close.closest("[data-reaction-picker]").parentElement;
    palette.replaceChildren();
    var add = reactions && reactions.querySelector("[data-reaction-add]");
    if (add) add.focus();
  });

  // The palette came in: its Close button works now, and the name field takes the focus.
  document.addEventListener("htmx:afterSwap", function (event) {
    var picker = event.target.querySelector && event.target.querySelector("[data-reaction-picker]");
    if (!picker) return;
    picker.querySelector("[data-reaction-close]").hidden = false;
    picker.querySelector("[data-reaction-filter]").focus();
  });
})();

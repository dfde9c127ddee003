// The header's "Notify me of" choice (a select in the form [data-level-choice], app/chat/levels.py)
// follows a choice made on another tab or device, or by a program: `live:level` (live.js) names
// the conversation and the level now. The form itself saves with htmx on a change, and without a
// script with its Save button; this only keeps other pages telling the truth.
(function () {
  "use strict";

  document.addEventListener("live:level", function (event) {
    var form = document.getElementById("conversation-" + event.detail.conversation + "-level");
    var choice = form && form.querySelector("[data-level-choice]");
    if (!choice || choice.value === event.detail.level) return;
    Array.prototype.forEach.call(choice.options, function (option) {
      option.selected = option.value === event.detail.level;
    });
  });
})();

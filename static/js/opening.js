// Where a conversation opens, before its first paint: at the message a permalink names
// ([data-highlight], centred and highlighted), at the first unread ("New messages" line,
// [data-new-line], near the top with a little of what was read above it), else at the bottom of
// [data-scroller]. The layout loads this file (with the others that change what a message looks
// like) deferred and render-blocking: it runs once the page is parsed and before anything is
// painted, so the conversation never shows its top first and then jumps.
(function () {
  "use strict";

  var box = document.querySelector("[data-scroller]");
  if (!box) return;
  var marker = document.querySelector("[data-highlight]");
  var target = marker && document.getElementById(marker.dataset.highlight);
  var line = box.querySelector("[data-new-line]");
  if (target) {
    target.classList.add("highlight");
    target.scrollIntoView({ block: "center" });
  } else if (line) {
    box.scrollTop += line.getBoundingClientRect().top - box.getBoundingClientRect().top - 48;
  } else {
    box.scrollTop = box.scrollHeight;
  }
})();

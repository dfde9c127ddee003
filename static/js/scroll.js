// The conversation's scrolling ([data-scroller]), once opened where opening.js put it (the bottom,
// the first unread, a permalink's message) before the first paint. New messages arriving
// live, and my own after a send, are followed if the reader was at the bottom; older messages
// loading above (a [data-older] sentinel swapped) leave what the reader sees where it was. When
// the list itself gets shorter (an error banner above it, a phone's keyboard opening), a reader
// at the bottom stays there, the newest (a "Not sent — Retry") still in view.
(function () {
  "use strict";

  function scroller() { return document.querySelector("[data-scroller]"); }
  function nearBottom(el) { return el.scrollHeight - el.scrollTop - el.clientHeight < 80; }
  function toBottom() { var el = scroller(); if (el) el.scrollTop = el.scrollHeight; }

  // Older messages load above: keep the distance from the bottom.
  var fromBottom = null;
  document.addEventListener("htmx:beforeSwap", function (event) {
    var el = scroller();
    var target = event.detail.target;
    if (el && target && target.closest && target.closest("[data-older]")) {
      fromBottom = el.scrollHeight - el.scrollTop;
    }
  });
  document.addEventListener("htmx:afterSettle", function () {
    var el = scroller();
    if (el && fromBottom !== null) { el.scrollTop = el.scrollHeight - fromBottom; fromBottom = null; }
  });

  var wasAtBottom = true;
  document.addEventListener("htmx:wsBeforeMessage", function () { var el = scroller(); wasAtBottom = !el || nearBottom(el); });
  document.addEventListener("htmx:wsAfterMessage", function () { if (wasAtBottom) toBottom(); });

  document.addEventListener("huddle:sending", toBottom);  // my own message, as I send it

  var box = scroller();
  if (box && window.ResizeObserver) {
    var height = box.clientHeight;
    new ResizeObserver(function () {
      var was = height;
      height = box.clientHeight;
      if (height < was && box.scrollHeight - box.scrollTop - was < 80) toBottom();  // was at the bottom
    }).observe(box);
  }
})();

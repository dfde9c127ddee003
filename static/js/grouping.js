// Consecutive messages by one author within 5 minutes read as one group, Campfire-style: in the
// conversation's list ([data-messages]), each message after the first of a group gets the class
// "continued" (CSS hides its repeated name). Applied on load, after every swap and live frame.
(function () {
  "use strict";

  var WITHIN = 5 * 60 * 1000;

  function group() {
    document.querySelectorAll("[data-messages]").forEach(groupList);  // a thread's panel has its own
  }

  function groupList(list) {
    var previous = null;
    list.querySelectorAll(":scope > article[data-author]").forEach(function (message) {
      var time = message.querySelector("time");
      var at = time ? Date.parse(time.getAttribute("datetime")) : 0;
      var same = previous && previous.author === message.dataset.author && at - previous.at < WITHIN;
      message.classList.toggle("continued", !!same);
      previous = { author: message.dataset.author, at: at };
    });
  }

  group();  // at once: the layout loads this deferred and render-blocking, so before the first paint
  ["htmx:afterSwap", "htmx:oobAfterSwap", "htmx:wsAfterMessage"].forEach(function (name) {
    document.addEventListener(name, group);
  });
})();

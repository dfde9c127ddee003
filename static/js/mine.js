// "Mine" without a render per viewer: a message is rendered once for everyone, with its author
// in data-author; the message whose author is this page's person (body[data-me]) gets the class
// "mine", and CSS shows Edit on it (Delete on it, or on everything for admins). Applied on load,
// after every swap, and after every live frame (a message cursor.js replaced in place included).
(function () {
  "use strict";

  function markMine() {
    var me = document.body.dataset.me || "";
    document.querySelectorAll("[data-author]").forEach(function (message) {
      message.classList.toggle("mine", me !== "" && message.dataset.author === me);
    });
  }

  markMine();  // at once: the layout loads this deferred and render-blocking, so before the first paint
  ["htmx:afterSwap", "htmx:oobAfterSwap", "htmx:wsAfterMessage"].forEach(function (name) {
    document.addEventListener(name, markMine);
  });
})();

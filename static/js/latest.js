// Sending from the past goes to the latest, as in other chats. A page that does not hold the
// newest messages (a permalink, the first unread: the [data-newer] sentinel is there) would put my
// message after the past. So when composer.js is about to show a send there, it asks with
// `huddle:to-latest` (cancelled here: "on it"); the newest page (data-latest-url on
// [data-jump-latest]) then takes the place of the past in [data-messages], in place, no reload:
// the older pages load above it as usual, messages that arrived live meanwhile are kept, and the
// address becomes the latest's. `huddle:at-latest` then lets composer.js show and send what
// waited. If the newest page cannot be had, the past and its sentinel stay and the sends go on.
(function () {
  "use strict";

  var busy = false;

  function ids(list) {
    return Array.prototype.map.call(list.querySelectorAll(":scope > article[id]"), function (el) { return el.id; });
  }

  document.addEventListener("huddle:to-latest", function (event) {
    var list = document.querySelector("[data-messages]");
    var newer = document.querySelector("[data-newer]");
    var jump = document.querySelector("[data-jump-latest][data-latest-url]");
    if (!list || !jump || !(newer || busy)) return;
    event.preventDefault();
    if (busy) return;
    busy = true;
    var parent = newer.parentNode, next = newer.nextSibling;
    newer.remove();  // nothing pages the past forward now; live messages go straight in
    var had = ids(list), arrived = [], swapped = false;

    // The answer replaces the past: the list is emptied just before it goes in, keeping aside
    // what came live meanwhile.
    function clear(event) {
      if (event.detail.target !== list || !event.detail.shouldSwap) return;
      arrived = Array.prototype.filter.call(list.querySelectorAll(":scope > article[data-seq]"), function (el) {
        return had.indexOf(el.id) === -1;
      });
      list.replaceChildren();
    }
    function done(event) { if (event.detail.target === list) swapped = true; }
    document.addEventListener("htmx:beforeSwap", clear);
    document.addEventListener("htmx:afterSwap", done);

    function finish() {
      document.removeEventListener("htmx:beforeSwap", clear);
      document.removeEventListener("htmx:afterSwap", done);
      if (swapped) {
        arrived.forEach(function (el) { if (!document.getElementById(el.id)) list.append(el); });
        history.replaceState(history.state, "", jump.href);  // a reload shows the latest too
      } else {
        parent.insertBefore(newer, next);
      }
      busy = false;
      document.dispatchEvent(new CustomEvent("huddle:at-latest", { detail: { ok: swapped } }));
    }
    htmx.ajax("GET", jump.dataset.latestUrl, { source: list, target: list, swap: "beforeend" }).then(finish, finish);
  });
})();

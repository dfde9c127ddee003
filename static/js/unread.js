// Reading as the reader reads. A conversation with unread messages opens at the first of them (opening.js),
// under the "New messages" line the server wrote ([data-new-line]); a message counts as read only
// once it has been on screen (an IntersectionObserver on the articles of [data-messages], inside
// [data-scroller], while the tab is visible), and the page POSTs the highest number shown to
// #conversation[data-read-url], never beyond. Messages from others arriving while the reader is
// scrolled up, or while the page does not hold the newest ([data-newer] is still there: a
// permalink, the first unread), are counted on the "N new messages ↓" button ([data-new-below]),
// which goes to them; in the second case they are not appended in the middle of the past (the
// newer pages bring them in order). "Mark unread from here" ([data-mark-unread], or a `live:read`
// that moves back) stops this page from reading further, so the mark holds until the reader comes
// back. Hears `live:seq`, `live:read`, htmx:oobBeforeSwap (capture: before cursor.js places a
// message) and htmx:afterSettle.
(function () {
  "use strict";

  var pane = document.getElementById("conversation");
  var list = document.querySelector("[data-messages]");
  var box = document.querySelector("[data-scroller]");
  if (!pane || !list || !box) return;
  var current = Number(pane.dataset.conversation);
  var me = document.body.dataset.me || "";
  var seen = 0;         // the highest message number shown on screen
  var posted = 0;       // the highest posted as read
  var paused = false;   // after "Mark unread from here", this page reads no more
  var arrived = [];     // numbers of others' messages that came while out of sight
  var onScreen = new Set();
  var serverRead = Number(pane.dataset.lastRead || 0);  // where the server has us: only moves back by a mark

  function csrfHeaders() {
    try { return JSON.parse(document.body.getAttribute("hx-headers") || "{}"); } catch (e) { return {}; }
  }
  function newestLoaded() { return !box.querySelector("[data-newer]"); }
  function nearBottom() { return box.scrollHeight - box.scrollTop - box.clientHeight < 80; }

  var readTimer = null;
  function postRead() {
    if (paused || document.hidden || !pane.dataset.readUrl || seen <= posted) return;
    clearTimeout(readTimer);
    readTimer = setTimeout(function () {
      if (paused || seen <= posted) return;
      posted = seen;
      fetch(pane.dataset.readUrl, {
        method: "POST", credentials: "same-origin", headers: csrfHeaders(),
        body: new URLSearchParams({ seq: String(seen) }),
      });
    }, 300);
  }

  function showCounter() {
    var button = document.querySelector("[data-new-below]");
    if (!button) return;
    arrived = arrived.filter(function (seq) { return seq > seen; });
    var count = arrived.length;
    button.textContent = count + (count === 1 ? " new message ↓" : " new messages ↓");
    button.hidden = !count || (newestLoaded() && nearBottom());
    var jump = document.querySelector("[data-jump-latest]");
    if (jump) jump.hidden = newestLoaded();
  }

  function update() {
    if (!document.hidden && !paused) {
      onScreen.forEach(function (el) {
        if (!el.isConnected) { onScreen.delete(el); return; }
        seen = Math.max(seen, Number(el.dataset.seq || 0));
      });
    }
    showCounter();
    postRead();
  }

  var observer = new IntersectionObserver(function (entries) {
    entries.forEach(function (entry) {
      var tall = entry.rootBounds && entry.intersectionRect.height >= entry.rootBounds.height / 2;
      if (entry.isIntersecting && (entry.intersectionRatio >= 0.6 || tall)) onScreen.add(entry.target);
      else onScreen.delete(entry.target);
    });
    update();
  }, { root: box, threshold: [0, 0.6, 1] });

  function watch(node) {
    if (node.nodeType !== 1) return;
    if (node.matches("article[data-seq]")) observer.observe(node);
    else node.querySelectorAll("article[data-seq]").forEach(function (el) { observer.observe(el); });
  }
  watch(list);
  new MutationObserver(function (changes) {
    changes.forEach(function (change) { change.addedNodes.forEach(watch); });
  }).observe(list, { childList: true });
  document.addEventListener("visibilitychange", update);
  box.addEventListener("scroll", showCounter, { passive: true });
  document.addEventListener("htmx:afterSettle", showCounter);

  // Opened at the first unread before the first paint (opening.js): count what is below it.
  document.addEventListener("DOMContentLoaded", showCounter);

  // The newest are not on the page: an arriving message waits for the newer pages (or a jump)
  // instead of going in after the past. Capture, so cursor.js never places it.
  document.addEventListener("htmx:oobBeforeSwap", function (event) {
    var incoming = event.detail.fragment && event.detail.fragment.firstElementChild;
    if (!incoming || !incoming.id || incoming.id.indexOf("message-") !== 0) return;
    if (event.detail.target !== list || newestLoaded() || document.getElementById(incoming.id)) return;
    event.detail.shouldSwap = false;
    event.stopPropagation();
    // Mine too: this tab's own sends first bring the latest in (latest.js), so this is another
    // tab's, and this tab stays where its reader is (with whatever is typed in it).
  }, true);

  document.addEventListener("live:seq", function (event) {
    var seq = event.detail;
    if (Number(seq.conversation) !== current || seq.kind !== "message.created" || seq.author === me) return;
    arrived.push(Number(seq.seq));
  });
  document.addEventListener("htmx:wsAfterMessage", update);

  function markUnreadFrom(seq) {
    paused = true;
    clearTimeout(readTimer);
    var old = list.querySelector("[data-new-line]");
    var first = Array.prototype.find.call(list.querySelectorAll("article[data-seq]"), function (el) {
      return Number(el.dataset.seq) > seq && el.dataset.author !== me;
    });
    if (!first) return;
    var line = old || document.createElement("div");
    if (!old) {
      line.className = "new-line";
      line.setAttribute("data-new-line", "");
      line.setAttribute("role", "separator");
      line.setAttribute("aria-label", "New messages");
      var label = document.createElement("span");
      label.textContent = "New messages";
      line.appendChild(label);
    }
    first.before(line);
  }

  document.addEventListener("htmx:beforeRequest", function (event) {
    var mark = event.target.closest && event.target.closest("[data-mark-unread]");
    var article = mark && mark.closest("article[data-seq]");
    if (article) markUnreadFrom(Number(article.dataset.seq) - 1);
  });

  document.addEventListener("live:read", function (event) {
    var read = event.detail;
    if (Number(read.conversation) !== current) return;
    var seq = Number(read.seq);
    if (seq < serverRead) {  // moved back (here or in another tab): keep the mark
      seen = posted = seq;
      markUnreadFrom(seq);
    }
    serverRead = seq;
  });

  document.querySelector("[data-new-below]") && document.addEventListener("click", function (event) {
    if (!event.target.closest || !event.target.closest("[data-new-below]")) return;
    if (!newestLoaded()) {  // bring the newest in, in place (latest.js); a page load only if it can't
      var jump = document.querySelector("[data-jump-latest]");
      if (jump && document.dispatchEvent(new CustomEvent("huddle:to-latest", { cancelable: true }))) {
        window.location.assign(jump.href);
      }
      return;
    }
    var first = Array.prototype.find.call(list.querySelectorAll("article[data-seq]"), function (el) {
      return Number(el.dataset.seq) > seen && el.dataset.author !== me;
    });
    if (first) first.scrollIntoView({ block: "start" });
    else box.scrollTop = box.scrollHeight;
  });
})();

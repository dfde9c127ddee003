// A thread beside its conversation. On a wide screen a [data-thread-link] ("Reply in thread", a
// message's "4 replies" line) loads the thread's panel into the conversation page's aside
// ([data-thread-panel]) instead of leaving the page; its URL is pushed, so a reload gives the
// thread's own page and Back closes it. On a phone, or on a page without the aside, the link is
// simply followed. The panel ([data-thread]: data-seq, data-parent, data-read-url) follows the
// thread's topic with its own cursor: it tells the socket which thread it shows and the highest
// number it has (a `thread` message, and in every hello), and each `live:seq` of the thread moves
// that number on; cursor.js puts the replies in place as in any conversation. The panel's copy of
// the parent message wears other ids (the conversation's copy keeps the real ones) and follows
// that message's live changes. Seen at its bottom in a visible tab, the thread is read (POST
// data-read-url, as unread.js does for the conversation). × or Escape (keys.js:
// `huddle:thread-close`) closes it, the focus back where it was opened. (The sidebar's "Threads"
// entry is thread-counts.js's.)
(function () {
  "use strict";

  var aside = document.querySelector("[data-thread-panel]");
  var wide = window.matchMedia("(min-width: 40.01rem)");
  var opener = null;   // where the focus goes back on closing
  var pushed = false;  // the panel's URL is an entry of ours in the history
  var posted = 0;
  var REFS = ["aria-controls", "aria-describedby", "for", "hx-target"];

  function panel() { return aside && aside.querySelector("[data-thread]"); }
  function cursor() { var p = panel(); return p ? Number(p.dataset.seq || 0) : 0; }
  function box() { var p = panel(); return p && p.querySelector("[data-thread-scroller]"); }
  function atBottom() { var b = box(); return !!b && b.scrollHeight - b.scrollTop - b.clientHeight < 80; }
  function toBottom() { var b = box(); if (b) b.scrollTop = b.scrollHeight; }

  function tell(thread, after) {
    document.dispatchEvent(new CustomEvent("huddle:send", {
      detail: { type: "thread", conversation: thread, after: after } }));
  }

  // The parent's copy in the panel: its ids, and what names them, prefixed (no two elements share one).
  function rename(article) {
    [article].concat(Array.prototype.slice.call(article.querySelectorAll("*"))).forEach(function (el) {
      if (el.id && el.id.indexOf("thread-") !== 0) el.id = "thread-" + el.id;
      REFS.forEach(function (name) {
        var value = el.getAttribute(name);
        if (value && /^#?message-/.test(value)) el.setAttribute(name, value.replace(/^(#?)/, "$1thread-"));
      });
    });
    article.removeAttribute("hx-swap-oob");
  }
  function renameParent() {
    var p = panel();
    var holder = p && p.querySelector("[data-thread-parent]");
    if (holder) holder.querySelectorAll(':scope > [id^="message-"]').forEach(rename);
  }
  if (aside) new MutationObserver(renameParent).observe(aside, { childList: true, subtree: true });

  // The parent changed (an edit, a reaction, a new summary): the panel's copy follows.
  function parentChanged(incoming) {
    var p = panel();
    if (!p || !incoming || incoming.id !== "message-" + p.dataset.parent) return;
    var copy = incoming.cloneNode(true);
    copy.classList.remove("htmx-added", "htmx-settling", "highlight");
    p.querySelector("[data-thread-parent]").replaceChildren(copy);
    renameParent();
    htmx.process(copy);
  }
  document.addEventListener("htmx:oobBeforeSwap", function (event) {
    var incoming = event.detail.fragment && event.detail.fragment.firstElementChild;
    if (incoming) parentChanged(incoming);
  });
  document.addEventListener("htmx:oobErrorNoTarget", function (event) { parentChanged(event.detail.content); });

  function read() {
    var p = panel();
    if (!p || !p.dataset.readUrl || document.hidden || !atBottom() || cursor() <= posted) return;
    posted = cursor();
    var headers = {};
    try { headers = JSON.parse(document.body.getAttribute("hx-headers") || "{}"); } catch (e) { headers = {}; }
    fetch(p.dataset.readUrl, { method: "POST", credentials: "same-origin", headers: headers,
                               body: new URLSearchParams({ seq: String(posted) }) });
  }

  function load(url, push) {
    return htmx.ajax("GET", url, { source: aside, target: aside }).then(function () {
      var p = panel();
      if (!p) return;
      if (push) history[pushed ? "replaceState" : "pushState"]({ thread: url }, "", url);
      pushed = pushed || push;
      aside.hidden = false;
      posted = 0;
      toBottom();
      tell(Number(p.dataset.thread), cursor());
      var area = p.querySelector("[data-composer] textarea");
      (area || p.querySelector("[data-thread-title]")).focus();
      read();
    });
  }

  function close(fromHistory) {
    if (!aside || aside.hidden) return;
    var p = panel();
    var parent = p && document.getElementById("message-" + p.dataset.parent);
    tell(null, 0);
    aside.replaceChildren();
    aside.hidden = true;
    if (pushed && !fromHistory) history.back();
    pushed = false;
    var back = opener && opener.isConnected ? opener : parent && parent.querySelector("[data-menu-button]");
    if (back) back.focus();
    opener = null;
  }

  document.addEventListener("click", function (event) {
    var target = event.target instanceof Element ? event.target : null;
    var shut = target && target.closest("[data-thread-close]");
    if (shut && aside && aside.contains(shut)) { event.preventDefault(); close(false); return; }
    var link = target && target.closest("a[data-thread-link]");
    if (!link || !aside || !wide.matches || !window.htmx || event.button || event.ctrlKey || event.metaKey ||
        event.shiftKey || event.altKey || aside.contains(link)) return;
    event.preventDefault();
    var article = link.closest("article");
    opener = (article && article.querySelector("[data-menu-button]")) || link;
    load(link.href, true);
  });

  document.addEventListener("huddle:thread-close", function () { close(false); });
  window.addEventListener("popstate", function (event) {
    if (event.state && event.state.thread) { pushed = true; load(event.state.thread, false); }
    else close(true);
  });

  document.addEventListener("huddle:hello", function (event) {
    var p = panel();
    if (p) { event.detail.thread = Number(p.dataset.thread); event.detail.thread_after = cursor(); }
  });

  var wasAtBottom = true;
  document.addEventListener("live:seq", function (event) {
    var p = panel();
    if (!p || Number(event.detail.conversation) !== Number(p.dataset.thread)) return;
    p.dataset.seq = String(Math.max(cursor(), Number(event.detail.seq)));
  });
  document.addEventListener("htmx:wsBeforeMessage", function () { wasAtBottom = atBottom(); });
  document.addEventListener("htmx:wsAfterMessage", function () { if (panel() && wasAtBottom) toBottom(); read(); });
  document.addEventListener("huddle:sending", function (event) {
    if (aside && aside.contains(event.detail.element)) toBottom();
  });
  // Older replies load above (the panel's [data-older]): what the reader sees stays where it was.
  var fromBottom = null;
  document.addEventListener("htmx:beforeSwap", function (event) {
    var b = box();
    if (b && b.contains(event.detail.target) && event.detail.target.closest("[data-older]")) {
      fromBottom = b.scrollHeight - b.scrollTop;
    }
  });
  document.addEventListener("htmx:afterSettle", function () {
    var b = box();
    if (b && fromBottom !== null) b.scrollTop = b.scrollHeight - fromBottom;
    fromBottom = null;
  });

  // A reply sent makes its sender a follower (app/chat/messages.py): the Follow button says so.
  document.addEventListener("htmx:afterRequest", function (event) {
    var form = event.detail.elt;
    var thread = event.detail.successful && form instanceof Element && form.matches("[data-composer]") &&
      form.closest("[data-thread]");
    var button = thread && thread.querySelector('[data-thread-follow="off"]');
    if (!button) return;
    button.dataset.threadFollow = "on";
    button.textContent = "Following";
    button.form.elements.follow.value = "0";
  });
  document.addEventListener("scroll", function (event) { if (event.target === box()) read(); }, true);
  document.addEventListener("visibilitychange", read);
})();

// Where this page is in its conversation, and what is unread elsewhere. #conversation says which
// conversation the page shows (data-conversation) and the highest event number it was rendered
// with (data-seq); every `live:seq` event for it moves that cursor on, and the hello tells the
// server the cursor, so a page that reconnects gets what it missed, nothing twice. (Reading is
// static/js/unread.js: only what was shown.) Unread badges in the sidebar (dom_id:
// conversation-<id>-unread) count others' new messages, take the count left when read in any tab
// (`live:read`), and are reset from the snapshot after a hello (`live:unread`: it lists only the
// counts above zero, so a badge it does not name is cleared).
// A message already on the page (the sender's own answer, a replay) is replaced when it arrives
// again, never appended a second time; a new one goes in at its place by seq (data-seq), not
// simply at the end, so every screen shows one order, live and after reload alike.
(function () {
  "use strict";

  var pane = document.getElementById("conversation");
  var current = pane ? Number(pane.dataset.conversation) : null;
  var cursor = pane ? Number(pane.dataset.seq || 0) : 0;
  var me = document.body.dataset.me || "";

  function setUnread(conversation, count) {
    var badge = document.getElementById("conversation-" + conversation + "-unread");
    if (!badge) return;
    badge.dataset.count = String(count);
    badge.textContent = count >= 100 ? "99+" : (count ? String(count) : "");
    badge.hidden = !count;
  }

  document.addEventListener("huddle:hello", function (event) {
    if (current) { event.detail.conversation = current; event.detail.after = cursor; }
  });

  document.addEventListener("live:seq", function (event) {
    var seq = event.detail;
    if (!seq.conversation) return;
    var conversation = Number(seq.conversation);
    var fromOthers = seq.kind === "message.created" && seq.author !== me;
    if (conversation === current) cursor = Math.max(cursor, Number(seq.seq));
    if (fromOthers) {  // unread until seen, here too (static/js/unread.js reads what is shown)
      var badge = document.getElementById("conversation-" + conversation + "-unread");
      if (badge) setUnread(conversation, Number(badge.dataset.count || 0) + 1);
    }
  });

  document.addEventListener("live:read", function (event) {
    if (event.detail.conversation) setUnread(Number(event.detail.conversation), Number(event.detail.unread || 0));
  });

  document.addEventListener("live:unread", function (event) {
    if (!event.detail.counts) return;
    var counts = JSON.parse(event.detail.counts);
    document.querySelectorAll('[id^="conversation-"][id$="-unread"]').forEach(function (badge) {
      setUnread(badge.id.slice("conversation-".length, -"-unread".length), 0);
    });
    Object.keys(counts).forEach(function (id) {
      setUnread(Number(id), counts[id]);
    });
  });

  // Conversation order is seq order, whatever order messages arrive in (two people pressing
  // Enter at once, my own answer before another's push): a message goes in before the first one
  // with a higher seq, or before my messages still sending ([data-pending], which get theirs
  // later), else at the end.
  function place(message) {
    var list = message.parentElement;
    var seq = Number(message.dataset.seq);
    if (!list || !list.matches("[data-messages]") || !seq) return;
    var before = null;
    list.querySelectorAll(":scope > [data-seq], :scope > [data-pending]").forEach(function (other) {
      if (before || other === message) return;
      if (other.hasAttribute("data-pending") || Number(other.dataset.seq) > seq) before = other;
    });
    if (before && message.nextElementSibling !== before) list.insertBefore(message, before);
    else if (!before && list.lastElementChild !== message) list.append(message);
  }

  document.addEventListener("htmx:oobBeforeSwap", function (event) {
    var incoming = event.detail.fragment && event.detail.fragment.firstElementChild;
    if (!incoming || !incoming.id || incoming.id.indexOf("message-") !== 0) return;
    var existing = document.getElementById(incoming.id);
    var target = event.detail.target;
    if (existing && existing !== target) {
      event.detail.shouldSwap = false;
      existing.replaceWith(incoming);
    } else if (!existing && target.matches("[data-messages]")) {
      event.detail.shouldSwap = false;
      target.append(incoming);
    } else {
      return;
    }
    place(incoming);
    htmx.process(incoming);  // mine.js, grouping.js and times.js see it after the frame
  });

  // My own message, swapped in for its "Sending…" stand-in by the post's answer (composer.js).
  document.addEventListener("htmx:afterSwap", function (event) {
    var el = event.target;
    if (el.matches && el.matches("[data-messages] > article[data-seq]")) place(el);
  });

})();

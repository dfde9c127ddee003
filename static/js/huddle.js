// Huddle's only script of its own. htmx does the swapping; this reports failures where the user
// is looking and acts on the live channel's control messages (forced logout, scoped reload).
(function () {
  "use strict";

  function say(text) {
    var region = document.getElementById("flash");
    if (!region) return;
    var p = document.createElement("p");
    p.className = "notice error";
    p.setAttribute("role", "alert");
    p.textContent = text;
    region.replaceChildren(p);
  }

  document.addEventListener("htmx:responseError", function (event) {
    var xhr = event.detail.xhr;
    var messages = {
      403: "You are not allowed to do that, or the page is out of date: reload it and try again.",
      404: "That no longer exists. Reload the page to see the latest.",
      413: "That is larger than Huddle accepts.",
    };
    say(messages[xhr.status] || "Something went wrong (" + xhr.status + "). Please try again.");
  });
  document.addEventListener("htmx:sendError", function () {
    say("Huddle could not be reached. Check your connection and try again.");
  });
  // Once a request works again, the error banner it left has said its piece.
  document.addEventListener("htmx:afterRequest", function (event) {
    if (!event.detail.successful) return;
    document.querySelectorAll("#flash .notice.error").forEach(function (p) { p.remove(); });
  });

  // Confirmations ("Saved maya."): one polite region, each toast gone after a few seconds.
  // The server asks for one with HX-Trigger (app/web/htmx.toast); form errors stay by their field.
  document.addEventListener("huddle:toast", function (event) {
    var region = document.getElementById("toasts");
    if (!region || !event.detail || !event.detail.message) return;
    var p = document.createElement("p");
    p.className = "toast";
    p.textContent = event.detail.message;
    region.append(p);
    while (region.children.length > 3) region.firstElementChild.remove();
    setTimeout(function () { p.remove(); }, 6000);
  });

  // --- times ----------------------------------------------------------------------------------
  // Every <time datetime> reads in the viewer's own time zone: relative ("5 min ago", "in 3
  // days") with the exact local time on hover; data-time="date" shows just the local date, and
  // "clock" (chat messages) the time of day for today. Without JavaScript the server's UTC text stays.
  var exact = window.Intl ? new Intl.DateTimeFormat(undefined, {
    dateStyle: "medium", timeStyle: "short" }) : null;
  var dateOnly = window.Intl ? new Intl.DateTimeFormat(undefined, { dateStyle: "medium" }) : null;
  var zone = "";
  try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone || ""; } catch (e) { zone = ""; }
  function sameDay(a, b) { return a.toDateString() === b.toDateString(); }
  function describe(date, style) {
    var now = new Date();
    if (style === "date") return dateOnly ? dateOnly.format(date) : date.toLocaleDateString();
    var seconds = (now.getTime() - date.getTime()) / 1000;
    var future = seconds < 0, size = Math.abs(seconds);
    function ago(n, unit) { return future ? "in " + n + " " + unit : n + " " + unit + " ago"; }
    if (size < 45) return "just now";
    if (size < 3600) return ago(Math.max(1, Math.round(size / 60)), "min");
    if (style === "clock" && sameDay(now, date)) {
      return date.toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit" });
    }
    if (size < 86400) { var h = Math.round(size / 3600); return ago(h, h === 1 ? "hour" : "hours"); }
    if (size < 7 * 86400) { var d = Math.round(size / 86400); return ago(d, d === 1 ? "day" : "days"); }
    return exact ? exact.format(date) : date.toLocaleString();
  }
  function localTimes(root) {
    (root || document).querySelectorAll("time[datetime]").forEach(function (time) {
      var date = new Date(time.getAttribute("datetime"));
      if (isNaN(date)) return;
      time.textContent = describe(date, time.dataset.time);
      time.title = (exact ? exact.format(date) : date.toLocaleString()) + (zone ? " (" + zone + ")" : "");
    });
  }
  window.huddleTimes = localTimes;
  document.addEventListener("DOMContentLoaded", function () { localTimes(document); });
  document.addEventListener("htmx:afterSettle", function (event) { localTimes(event.target); });
  document.addEventListener("htmx:oobAfterSwap", function (event) { localTimes(event.detail.target); });
  setInterval(function () { localTimes(document); }, 30000);

  // --- focus after in-place swaps -------------------------------------------------------------
  // A form swapped in takes the focus (its first field in error, else its first field) and
  // remembers the control that opened it; swapped away (saved, cancelled), the focus goes back
  // to that control. A redrawn list keeps the focus on the same link. Whatever else would leave
  // the focus nowhere (a row deleted) puts it on the main region, never on <body>.
  var FIELDS = "input:not([type=hidden]):not([disabled]), textarea:not([disabled]), select:not([disabled])";
  var trigger = null;
  var pending = null;  // what the swap about to happen replaces: its opener, and the focused control
  document.addEventListener("htmx:beforeRequest", function (event) { trigger = event.detail.elt; });
  function keyOf(el) {
    if (!el || !el.getAttribute) return null;
    if (el.id) return "#" + CSS.escape(el.id);
    var attr = ["hx-get", "hx-post", "href", "name"].find(function (a) { return el.hasAttribute(a); });
    return attr ? "[" + attr + '="' + CSS.escape(el.getAttribute(attr)) + '"]' : null;
  }
  document.addEventListener("htmx:beforeSwap", function (event) {
    var old = event.detail.target;
    var active = document.activeElement;
    pending = {
      opener: old && old.dataset ? old.dataset.returnFocus || null : null,
      focused: old && active && old !== active && old.contains(active) ? keyOf(active) : null,
    };
  });
  function lost() {
    var active = document.activeElement;
    return !active || active === document.body || !document.body.contains(active);
  }
  function focusMain() {
    var main = document.getElementById("main");
    if (main) main.focus({ preventScroll: true });
  }
  document.addEventListener("htmx:afterSwap", function (event) {
    var root = event.target;
    var was = pending || {};
    pending = null;
    if (!(root instanceof Element) || root.closest("#live, #conversation")) return;  // chat.js: the composer
    // (Not by class: while htmx settles, a new element wears the classes of the one it replaced.)
    var form = root.matches("form") || root.querySelector("form");
    var field = root.querySelector('[aria-invalid="true"]') || (form && root.querySelector(FIELDS));
    if (field) {
      var opened = trigger && !root.contains(trigger) ? keyOf(trigger) : null;
      var from = was.opener || opened;
      if (from) root.dataset.returnFocus = from;
      field.focus();
      return;
    }
    if (!lost()) return;
    var back = (was.focused && root.querySelector(was.focused)) || (was.opener && document.querySelector(was.opener));
    if (back) back.focus();
    if (lost()) focusMain();
  });
  document.addEventListener("htmx:afterRequest", function () { if (lost()) focusMain(); });

  // Escape cancels an in-place edit or add form, as its Cancel does.
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape" || event.defaultPrevented || !event.target.closest) return;
    var form = event.target.closest("tr.editing") || event.target.closest("form");
    var cancel = form && form.querySelector("a.cancel[hx-get]");
    if (!cancel) return;
    event.preventDefault();
    // Straight to htmx, not cancel.click(): a form swapped in a moment ago may not be wired up
    // yet, and an unwired link would navigate away. Its hx-target is the form (or row) itself.
    htmx.ajax("GET", cancel.getAttribute("hx-get"), { source: cancel, target: form, swap: "outerHTML" });
  });

  // Once this page is being left (a link, a form post), its socket closing means nothing.
  var leaving = false;
  window.addEventListener("beforeunload", function () { leaving = true; });
  window.addEventListener("pageshow", function () { leaving = false; });

  // A control fragment swapped into #live-control tells the page what to do.
  function obey() {
    var control = document.getElementById("live-control");
    if (leaving || !control || !control.dataset.action) return;
    if (control.dataset.action === "logout") {
      window.location.replace(control.dataset.location || "/login");
    } else if (control.dataset.action === "reload" && control.dataset.scope === document.body.dataset.scope) {
      window.location.reload();
    }
  }
  document.addEventListener("htmx:wsAfterMessage", obey);

  // Presence: one small element per change (or per snapshot) says who is online among some
  // people; every badge of theirs on this page follows, wherever it is.
  function applyPresence() {
    var news = document.getElementById("live-presence");
    if (!news || news.dataset.applied) return;
    news.dataset.applied = "1";
    [["offline", false], ["online", true]].forEach(function (pair) {
      (news.dataset[pair[0]] || "").split(" ").forEach(function (id) {
        if (!id) return;
        document.querySelectorAll('[data-presence-user="' + id + '"]').forEach(function (badge) {
          badge.classList.toggle("online", pair[1]);
          badge.classList.toggle("offline", !pair[1]);
          badge.textContent = pair[1] ? "Online" : "Offline";
        });
      });
    });
  }
  document.addEventListener("htmx:wsAfterMessage", applyPresence);

  // --- conversations --------------------------------------------------------------------------
  // The conversation this page shows, and the highest event number it has: the page rendered
  // up to data-seq, and every #live-seq for it moves the cursor on.
  var pane = document.getElementById("conversation");
  var current = pane ? Number(pane.dataset.conversation) : null;
  var cursor = pane ? Number(pane.dataset.seq || 0) : 0;
  var socket = null;
  var me = document.body.dataset.me || "";

  function csrfHeaders() {
    try { return JSON.parse(document.body.getAttribute("hx-headers") || "{}"); } catch (e) { return {}; }
  }

  function setUnread(conversation, count) {
    var badge = document.getElementById("conversation-" + conversation + "-unread");
    if (!badge) return;
    badge.dataset.count = String(count);
    badge.textContent = count >= 100 ? "99+" : (count ? String(count) : "");
    badge.hidden = !count;
  }

  var readTimer = null;
  function markRead() {
    if (!current || document.hidden) return;
    clearTimeout(readTimer);
    readTimer = setTimeout(function () {
      fetch("/chat/" + current + "/read", {
        method: "POST", credentials: "same-origin", headers: csrfHeaders(),
        body: new URLSearchParams({ seq: String(cursor) }),
      });
    }, 300);
  }
  document.addEventListener("visibilitychange", markRead);

  // On every (re)open, say hello: whose presence this page shows and where it is in its
  // conversation, so the server sends what it missed (nothing lost, nothing twice).
  document.addEventListener("htmx:wsOpen", function (event) {
    socket = event.detail.socketWrapper;
    var ids = {};
    document.querySelectorAll("[data-presence-user]").forEach(function (badge) {
      ids[badge.dataset.presenceUser] = true;
    });
    var hello = { type: "hello", presence: Object.keys(ids).map(Number) };
    if (current) { hello.conversation = current; hello.after = cursor; }
    socket.send(JSON.stringify(hello));
    clearAllTyping();
  });

  function applyLive() {
    var seq = document.getElementById("live-seq");
    if (seq && !seq.dataset.applied && seq.dataset.conversation) {
      seq.dataset.applied = "1";
      var conversation = Number(seq.dataset.conversation);
      if (conversation === current) {
        cursor = Math.max(cursor, Number(seq.dataset.seq));
        if (seq.dataset.kind === "message.created") {
          clearTyping(current, seq.dataset.author);
          if (seq.dataset.author !== me) markRead();
        }
      } else if (seq.dataset.kind === "message.created" && seq.dataset.author !== me) {
        var badge = document.getElementById("conversation-" + conversation + "-unread");
        if (badge) setUnread(conversation, Number(badge.dataset.count || 0) + 1);
      }
    }
    var read = document.getElementById("live-read");
    if (read && !read.dataset.applied && read.dataset.conversation) {
      read.dataset.applied = "1";
      setUnread(Number(read.dataset.conversation), 0);
    }
    var unread = document.getElementById("live-unread");
    if (unread && !unread.dataset.applied && unread.dataset.counts) {
      unread.dataset.applied = "1";
      var counts = JSON.parse(unread.dataset.counts);
      Object.keys(counts).forEach(function (id) {
        setUnread(Number(id), Number(id) === current ? 0 : counts[id]);
      });
    }
    var membership = document.getElementById("live-membership");
    if (membership && !membership.dataset.applied && membership.dataset.conversation) {
      membership.dataset.applied = "1";
      refreshLists(0);
    }
    var people = document.getElementById("live-people");
    if (people && !people.dataset.applied && people.dataset.changed) {
      people.dataset.applied = "1";
      // Every open page hears this at once: spread their fetches over a second and a half.
      refreshLists(Math.random() * 1500);
    }
    var typing = document.getElementById("live-typing");
    if (typing && !typing.dataset.applied && typing.dataset.conversation) {
      typing.dataset.applied = "1";
      if (Number(typing.dataset.conversation) === current && typing.dataset.user !== me) {
        if (typing.dataset.state === "stop") clearTyping(current, typing.dataset.user);
        else startTyping(typing.dataset.user, typing.dataset.name);
      }
    }
  }
  document.addEventListener("htmx:wsAfterMessage", applyLive);

  // Lists of people and conversations out of date: fetch them again, once however many
  // changes arrive together. Focus inside the list stays where it was.
  var refreshTimer = null;
  function refreshLists(delay) {
    if (refreshTimer) return;
    refreshTimer = setTimeout(function () {
      refreshTimer = null;
      if (document.getElementById("sidebar")) {
        htmx.ajax("GET", "/chat/sidebar", { target: "#sidebar", swap: "outerHTML" });
      }
      if (document.getElementById("team")) {
        htmx.ajax("GET", window.location.pathname + window.location.search,
                  { target: "#team", select: "#team", swap: "outerHTML" });
      }
    }, delay);
  }

  // A message that is already on the page (the sender's own answer, a replay) is replaced,
  // never appended a second time.
  document.addEventListener("htmx:oobBeforeSwap", function (event) {
    var incoming = event.detail.fragment && event.detail.fragment.firstElementChild;
    if (!incoming || !incoming.id || incoming.id.indexOf("message-") !== 0) return;
    var existing = document.getElementById(incoming.id);
    if (existing && existing !== event.detail.target) {
      event.detail.shouldSwap = false;
      existing.replaceWith(incoming);
      htmx.process(incoming);  // static/js/chat.js marks it "mine" after the frame
    }
  });

  if (current) markRead();

  // --- typing ---------------------------------------------------------------------------------
  // Others typing in this conversation: shown while signals keep coming, gone ~5 s after the
  // last one, when they send, stop, leave, or this page loses its socket. Never stuck.
  var typers = {};
  var TYPING_TTL = 5000;
  function typingLine() {
    var line = document.getElementById("typing-indicator");
    if (!line && pane) {
      line = document.createElement("p");
      line.id = "typing-indicator";
      line.className = "typing muted";
      line.setAttribute("aria-live", "polite");
      var composer = pane.querySelector("form.composer") || null;
      pane.insertBefore(line, composer);
    }
    return line;
  }
  function renderTyping() {
    var line = typingLine();
    if (!line) return;
    var names = Object.keys(typers).map(function (id) { return typers[id].name; }).sort();
    line.textContent = names.length === 0 ? "" : names.length === 1 ? names[0] + " is typing…"
      : names.length === 2 ? names[0] + " and " + names[1] + " are typing…" : "Several people are typing…";
  }
  function startTyping(user, name) {
    if (typers[user]) clearTimeout(typers[user].timer);
    typers[user] = { name: name, timer: setTimeout(function () { clearTyping(current, user); }, TYPING_TTL) };
    renderTyping();
  }
  function clearTyping(conversation, user) {
    if (conversation !== current || !typers[user]) return;
    clearTimeout(typers[user].timer);
    delete typers[user];
    renderTyping();
  }
  function clearAllTyping() {
    Object.keys(typers).forEach(function (user) { clearTimeout(typers[user].timer); delete typers[user]; });
    renderTyping();
  }
  document.addEventListener("htmx:wsClose", clearAllTyping);

  // While the socket is down, "Reconnecting…" offers to try at once instead of waiting.
  document.addEventListener("htmx:wsClose", function (event) {
    var status = document.querySelector(".live-status");
    if (!status || status.querySelector("button")) return;
    var retry = document.createElement("button");
    retry.type = "button";
    retry.className = "button link small";
    retry.textContent = "Retry now";
    retry.addEventListener("click", function () { event.detail.socketWrapper.reconnect(); });
    status.append(" ", retry);
  });

  // My typing: at most one signal every 2 s while I type, and a stop when I send or clear.
  var lastTyping = 0;
  function sendTyping(state) {
    if (!socket || !current) return;
    socket.send(JSON.stringify({ type: "typing", conversation: current, state: state }));
  }
  document.addEventListener("input", function (event) {
    if (!pane || !event.target.matches("#conversation textarea[name=body]")) return;
    var now = Date.now();
    if (!event.target.value.trim()) { if (lastTyping) { lastTyping = 0; sendTyping("stop"); } return; }
    if (now - lastTyping > 2000) { lastTyping = now; sendTyping("start"); }
  });
  document.addEventListener("submit", function (event) {
    if (pane && event.target.closest("#conversation") && lastTyping) { lastTyping = 0; sendTyping("stop"); }
  }, true);

  // Come back quickly after a restart: within ~5 s, not htmx's default of up to a minute.
  if (window.htmx) {
    htmx.config.wsReconnectDelay = function (retries) {
      return Math.min(5000, 500 * Math.pow(2, retries)) * (0.5 + Math.random() / 2);
    };
  }

  // Say when live updates are paused, so nobody mistakes a quiet page for a quiet team.
  document.addEventListener("htmx:wsOpen", function () { document.body.dataset.live = "open"; });
  document.addEventListener("htmx:wsClose", function () { document.body.dataset.live = "closed"; });

  // The socket dropped and could not come back (the handshake is refused once a session
  // ends): ask whether this session still exists, and if not, go to the login page.
  document.addEventListener("htmx:wsClose", function (event) {
    if (leaving || event.detail.event.code === 1000) return;
    if (event.detail.event.code === 4008) {
      // Too many open tabs: the server closed this, the oldest. htmx will not reconnect it.
      document.body.dataset.live = "replaced";
      return;
    }
    fetch("/session", { credentials: "same-origin" }).then(function (response) {
      if (response.status === 401) window.location.replace("/login?reason=expired");
    }, function () { /* offline: htmx keeps trying to reconnect */ });
  });
})();

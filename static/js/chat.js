// Chat pages: the composer (Enter sends, Shift+Enter adds a line, a client id per message so a
// retry lands once, the text kept when a send fails), inline edit keys, scrolling (to the bottom
// on open, kept in place when older messages load above), permalinks, grouping, relative times.
(function () {
  "use strict";

  function newClientId(form) {
    var field = form && form.querySelector("input[name=client_id]");
    if (field && !field.value) {
      field.value = (window.crypto && crypto.randomUUID) ? crypto.randomUUID()
        : String(Date.now()) + Math.random().toString(16).slice(2);
    }
  }

  function scroller() { return document.querySelector(".messages-scroll"); }
  function nearBottom(el) { return el.scrollHeight - el.scrollTop - el.clientHeight < 80; }
  function toBottom() { var el = scroller(); if (el) el.scrollTop = el.scrollHeight; }

  // Enter sends, Shift+Enter is a new line; in an edit form Enter saves and Escape cancels.
  document.addEventListener("keydown", function (event) {
    var area = event.target;
    if (!area.matches || !area.matches("textarea[name=body]")) return;
    var form = area.form;
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing && (form.matches(".composer, .edit-message"))) {
      event.preventDefault();
      if (!area.value.trim()) return;
      newClientId(form);
      if (form.requestSubmit) form.requestSubmit(); else form.submit();
    } else if (event.key === "Escape" && form.matches(".edit-message")) {
      // Straight to htmx: a link swapped in a moment ago may not be wired up yet.
      var cancel = form.querySelector("a.cancel");
      event.preventDefault();
      if (cancel) htmx.ajax("GET", cancel.getAttribute("hx-get"), { target: form, swap: "outerHTML" });
    }
  });
  document.addEventListener("submit", function (event) {
    if (event.target.matches(".composer")) newClientId(event.target);
  }, true);

  // After a send: the server returns an empty composer; keep the focus in it. After an error
  // (422) the composer comes back with the text and the message beside it.
  document.addEventListener("htmx:afterSwap", function (event) {
    var target = event.detail.target;
    if (target && target.matches && target.matches("form.composer")) {
      var fresh = document.getElementById(target.id) || document.querySelector("form.composer");
      var area = fresh && fresh.querySelector("textarea");
      if (area) { area.focus(); area.setSelectionRange(area.value.length, area.value.length); }
      toBottom();
    }
    if (target && target.matches && target.matches(".edit-message, form.edit-message")) {
      var box = target.querySelector && target.querySelector("textarea");
      if (box) box.focus();
    }
    group(document); relativeTimes(document);
  });
  // A send that never reached the server: the text stays, with a way to retry (same client id).
  document.addEventListener("htmx:sendError", function (event) {
    var form = event.detail.elt && event.detail.elt.closest && event.detail.elt.closest("form.composer");
    if (form) { var failed = form.querySelector(".send-failed"); if (failed) failed.hidden = false; }
  });
  document.addEventListener("htmx:beforeRequest", function (event) {
    var form = event.detail.elt && event.detail.elt.matches && event.detail.elt.matches("form.composer") && event.detail.elt;
    if (form) { var failed = form.querySelector(".send-failed"); if (failed) failed.hidden = true; newClientId(form); }
  });

  // Older messages load above: keep what the reader sees where it was.
  var fromBottom = null;
  document.addEventListener("htmx:beforeSwap", function (event) {
    var el = scroller();
    if (el && event.detail.target && event.detail.target.closest && event.detail.target.closest(".older")) {
      fromBottom = el.scrollHeight - el.scrollTop;
    }
  });
  document.addEventListener("htmx:afterSettle", function () {
    var el = scroller();
    if (el && fromBottom !== null) { el.scrollTop = el.scrollHeight - fromBottom; fromBottom = null; }
  });

  // New messages arriving live: follow them if the reader was at the bottom.
  var wasAtBottom = true;
  document.addEventListener("htmx:wsBeforeMessage", function () { var el = scroller(); wasAtBottom = !el || nearBottom(el); });
  document.addEventListener("htmx:wsAfterMessage", function () {
    markMine(document);
    if (wasAtBottom) toBottom();
    group(document); relativeTimes(document);
  });

  // Per viewer without a render per viewer: my messages get class "mine" (CSS shows Edit on
  // them, Delete on them or on everything for admins): on load, after every swap and every
  // live frame (a message huddle.js replaced in place included).
  function markMine(root) {
    var me = document.body.dataset.me || "";
    (root || document).querySelectorAll(".message[data-author]").forEach(function (message) {
      message.classList.toggle("mine", me !== "" && message.dataset.author === me);
    });
  }
  document.addEventListener("htmx:afterSwap", function () { markMine(document); });
  document.addEventListener("htmx:oobAfterSwap", function () { markMine(document); group(document); relativeTimes(document); });

  // Consecutive messages by one author within 5 minutes read as one group (Campfire-style).
  function group(root) {
    var list = document.querySelector(".messages");
    if (!list) return;
    var previous = null;
    list.querySelectorAll(":scope > article.message").forEach(function (message) {
      var time = message.querySelector("time");
      var at = time ? Date.parse(time.getAttribute("datetime")) : 0;
      var same = previous && previous.author === message.dataset.author && at - previous.at < 5 * 60 * 1000;
      message.classList.toggle("continued", !!same);
      previous = { author: message.dataset.author, at: at };
    });
  }

  // Times: static/js/huddle.js formats every <time> (messages say data-time="clock").
  function relativeTimes(root) { if (window.huddleTimes) window.huddleTimes(root); }

  // Open: the bottom of the conversation, or the message a permalink names.
  document.addEventListener("DOMContentLoaded", function () {
    markMine(document); group(document); relativeTimes(document);
    var marker = document.querySelector("[data-highlight]");
    var target = marker && document.getElementById(marker.dataset.highlight);
    if (target) { target.classList.add("highlight"); target.scrollIntoView({ block: "center" }); }
    else toBottom();
    var composer = document.querySelector("form.composer textarea");
    if (composer && !target) composer.focus();
  });
})();

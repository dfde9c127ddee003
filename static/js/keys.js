// The page's one keyboard handler: a single keydown listener and the table of the keys Huddle
// gives a meaning to, so one key press does one thing. Enter in a [data-enter-sends] form's text
// area sends it (the composer, an inline message edit; Shift+Enter adds a line, an empty one sends
// nothing). Escape closes an open menu, cancels a composer's reply (reply.js), else in a form or
// table row that holds a [data-cancel] link cancels in place, as that link does. Up arrow in an
// empty composer edits one's last message; Ctrl+K (Cmd+K) opens the quick switcher; "/" focuses
// the header's search, whose results the arrow keys walk and Escape closes. While a text area's
// "@" list is open (mention-complete.js), Up and Down walk it, Enter and Tab pick, Escape closes
// it, and those keys do nothing else. On a picture's crop square (avatar-crop.js), the arrow keys
// move it and + and − resize it. A new key goes in KEYS; no other script listens to keydown.
(function () {
  "use strict";

  function enterSends(event) {
    var area = event.target;
    if (event.shiftKey || event.isComposing || !area.matches("textarea")) return;
    var form = area.form;
    if (!form || !form.matches("[data-enter-sends]")) return;
    event.preventDefault();
    if (!area.value.trim() && !form.querySelector("[data-attach-id]")) return;  // files alone may go (attach.js)
    if (form.requestSubmit) form.requestSubmit(); else form.submit();
  }

  function escapeCancels(event) {
    var scope = event.target.closest("tr, form");
    var cancel = scope && scope.querySelector("[data-cancel][hx-get]");
    if (!cancel) return;
    event.preventDefault();
    // Straight to htmx, not cancel.click(): a form swapped in a moment ago may not be wired up
    // yet, and an unwired link would navigate away. What it cancels is the form (or row) itself.
    htmx.ajax("GET", cancel.getAttribute("hx-get"), { source: cancel, target: scope, swap: "outerHTML" });
  }

  // Escape closes an open menu first (a message's "⋯", the account menu), the focus back on its
  // button; only then does it cancel in place.
  function escapeCloses(event) {
    var root = event.target.closest("[data-menu-root]");
    var button = root && root.querySelector('[data-menu-button][aria-expanded="true"]');
    if (button) {
      event.preventDefault();
      button.click();  // menus.js closes it
      button.focus();
      return;
    }
    var close = event.target.closest("[data-reaction-picker]");  // a reaction palette (reactions.js)
    close = close && close.querySelector("[data-reaction-close]:not([hidden])");
    if (close) {
      event.preventDefault();
      close.click();
      return;
    }
    var reply = event.target.closest("[data-composer]");  // replying (reply.js): × cancels it
    reply = reply && reply.querySelector("[data-reply-bar]:not([hidden]) [data-reply-cancel]");
    if (reply) {
      event.preventDefault();
      reply.click();
      return;
    }
    var details = event.target.closest("details.account-menu[open]");
    if (details) {
      event.preventDefault();
      details.open = false;
      details.querySelector("summary").focus();
      return;
    }
    var thread = event.target.closest("[data-thread-panel]");  // a thread's panel (thread.js), unless a form in it cancels
    if (thread && !event.target.closest("tr, form:has([data-cancel])")) {
      event.preventDefault();
      document.dispatchEvent(new CustomEvent("huddle:thread-close"));
      return;
    }
    escapeCancels(event);
  }

  // Up arrow in an empty composer edits one's last message, as in other chats.
  function upEditsLast(event) {
    var area = event.target;
    if (!area.matches("[data-composer] textarea") || area.value !== "" || event.shiftKey || event.altKey) return;
    var mine = area.form.parentElement.querySelectorAll("[data-messages] article.mine");  // its own (a thread's panel)
    var edit = mine.length && mine[mine.length - 1].querySelector("[data-edit][hx-get]");
    if (!edit) return;
    event.preventDefault();
    htmx.ajax("GET", edit.getAttribute("hx-get"), { source: edit, target: edit.closest("article"), swap: "outerHTML" });
  }

  // Ctrl+K (Cmd+K) opens the quick switcher (static/js/switcher.js).
  function switcher(event) {
    if (!(event.ctrlKey || event.metaKey) || event.altKey || event.shiftKey) return;
    if (!document.querySelector("[data-switcher]")) return;
    event.preventDefault();
    document.dispatchEvent(new CustomEvent("huddle:switcher"));
  }

  // The header's search (static/js/search.js): "/" anywhere but in a field focuses it; the arrow
  // keys walk its results from the field; Escape closes them onto the field.
  function inSearch(event) { return event.target.closest("[data-search]"); }

  function editable(target) {
    return target.isContentEditable || target.matches("input, textarea, select");
  }

  function slashSearches(event) {
    if (event.ctrlKey || event.metaKey || event.altKey || editable(event.target)) return;
    if (!document.querySelector("[data-search-query]")) return;
    event.preventDefault();
    document.dispatchEvent(new CustomEvent("huddle:search-focus"));
  }

  function searchMoves(step) {
    return function (event) {
      if (!inSearch(event)) return step < 0 ? upEditsLast(event) : undefined;
      if (event.shiftKey || event.altKey || event.ctrlKey || event.metaKey) return;
      event.preventDefault();
      document.dispatchEvent(new CustomEvent("huddle:search-move", { detail: { step: step, from: event.target } }));
    };
  }

  function escapeClosesSearch(event) {
    var panel = inSearch(event) && inSearch(event).querySelector("[data-search-panel]:not([hidden])");
    if (!panel) return escapeCloses(event);
    event.preventDefault();
    document.dispatchEvent(new CustomEvent("huddle:search-close"));
  }

  // The "@" list of a composer or an inline edit (static/js/mention-complete.js), while it is open;
  // else the key does what it does without it (`otherwise`).
  function mentionList(name, step, otherwise) {
    return function (event) {
      var open = event.target.matches('textarea[data-mention-list][aria-expanded="true"]');
      if (!open || event.isComposing || event.shiftKey || event.altKey || event.ctrlKey || event.metaKey) {
        return otherwise && otherwise(event);
      }
      event.preventDefault();
      document.dispatchEvent(new CustomEvent("huddle:mention-" + name, { detail: { area: event.target, step: step } }));
    };
  }

  // A picture's crop square (static/js/avatar-crop.js), while it has the focus; else `otherwise`.
  function cropSquare(otherwise) {
    return function (event) {
      if (!event.target.matches("[data-crop-square]")) return otherwise && otherwise(event);
      event.preventDefault();
      document.dispatchEvent(new CustomEvent("huddle:crop-key", {
        detail: { square: event.target, key: event.key, big: event.shiftKey } }));
    };
  }

  var KEYS = { Enter: mentionList("pick", 0, enterSends), Tab: mentionList("pick", 0, null),
               Escape: mentionList("close", 0, escapeClosesSearch),
               ArrowUp: cropSquare(mentionList("move", -1, searchMoves(-1))),
               ArrowDown: cropSquare(mentionList("move", 1, searchMoves(1))), k: switcher, K: switcher, "/": slashSearches,
               ArrowLeft: cropSquare(null), ArrowRight: cropSquare(null), "+": cropSquare(null), "=": cropSquare(null),
               "-": cropSquare(null), "−": cropSquare(null) };

  document.addEventListener("keydown", function (event) {
    var action = KEYS[event.key];
    if (action && !event.defaultPrevented && event.target instanceof Element) action(event);
  });
})();

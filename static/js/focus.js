// Focus after in-place swaps, for keyboards and screen readers. A form swapped in takes the focus
// (its first field in error, else its first field) and remembers, in data-return-focus, the
// control that opened it; swapped away (saved, cancelled), the focus goes back to that control
// (an inline message edit's Escape: back to its "⋯" menu button); the form is scrolled into view
// whole. A redrawn list keeps the focus on the same link. Whatever else would leave the focus
// nowhere (a row deleted) puts it on #main, never on <body>. Not here: the composer keeps its own
// focus (composer.js), and what the live channel swaps in never moves the focus.
(function () {
  "use strict";

  var FIELDS = "input:not([type=hidden]):not([disabled]), textarea:not([disabled]), select:not([disabled])";
  var trigger = null;  // the element whose request is under way
  var pending = null;  // what the swap about to happen replaces: its opener, and the focused control

  function keyOf(el) {
    if (!el || !el.getAttribute) return null;
    if (el.id) return "#" + CSS.escape(el.id);
    var attr = ["hx-get", "hx-post", "href", "name"].find(function (a) { return el.hasAttribute(a); });
    return attr ? "[" + attr + '="' + CSS.escape(el.getAttribute(attr)) + '"]' : null;
  }

  function lost() {
    var active = document.activeElement;
    return !active || active === document.body || !document.body.contains(active);
  }

  function focusMain() {
    var main = document.getElementById("main");
    if (main) main.focus({ preventScroll: true });
  }

  document.addEventListener("htmx:beforeRequest", function (event) { trigger = event.detail.elt; });

  document.addEventListener("htmx:beforeSwap", function (event) {
    var old = event.detail.target;
    var active = document.activeElement;
    pending = {
      opener: old && old.dataset ? old.dataset.returnFocus || null : null,
      focused: old && active && old !== active && old.contains(active) ? keyOf(active) : null,
    };
  });

  document.addEventListener("htmx:afterSwap", function (event) {
    var root = event.target;
    var was = pending || {};
    pending = null;
    if (!(root instanceof Element) || root.closest("#live, [data-composer]")) return;
    // (Not by class: while htmx settles, a new element wears the classes of the one it replaced.)
    var form = root.matches("form") || root.querySelector("form");
    var field = root.querySelector('[aria-invalid="true"]') || (form && root.querySelector(FIELDS));
    if (field) {
      var opened = trigger && !root.contains(trigger) ? keyOf(trigger) : null;
      var from = was.opener || opened;
      if (from) root.dataset.returnFocus = from;
      field.focus();
      // The whole form in view, its Save and Cancel too (the last message's edit opens at the fold).
      (root.matches("form") ? root : root.querySelector("form") || field).scrollIntoView({ block: "nearest" });
      return;
    }
    if (!lost()) return;
    var back = (was.focused && root.querySelector(was.focused)) || (was.opener && document.querySelector(was.opener));
    // An opener inside a closed menu (a message's Edit): back to the menu's button instead.
    var menu = back && back.closest("[data-menu][hidden]");
    if (menu) back = menu.closest("[data-menu-root]").querySelector("[data-menu-button]");
    if (back) back.focus();
    if (lost()) focusMain();
  });

  document.addEventListener("htmx:afterRequest", function () { if (lost()) focusMain(); });
})();

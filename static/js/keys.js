// The page's one keyboard handler: a single keydown listener and the table of the keys Huddle
// gives a meaning to, so one key press does one thing. Enter in a [data-enter-sends] form's text
// area sends it (the composer, an inline message edit; Shift+Enter adds a line, an empty one sends
// nothing). Escape in a form or table row that holds a [data-cancel] link cancels in place, as
// that link does. A new key goes in KEYS; no other script listens to keydown.
(function () {
  "use strict";

  function enterSends(event) {
    var area = event.target;
    if (event.shiftKey || event.isComposing || !area.matches("textarea")) return;
    var form = area.form;
    if (!form || !form.matches("[data-enter-sends]")) return;
    event.preventDefault();
    if (!area.value.trim()) return;
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

  var KEYS = { Enter: enterSends, Escape: escapeCancels };

  document.addEventListener("keydown", function (event) {
    var action = KEYS[event.key];
    if (action && !event.defaultPrevented && event.target instanceof Element) action(event);
  });
})();

// The header's search field ([data-search] form, [data-search-query] field): as one types, htmx
// puts the first results into its [data-search-panel]; this shows the panel when it holds
// something and hides it when it is empty, when the focus leaves the search, or on Escape
// ("huddle:search-close" from keys.js), the focus back on the field. keys.js also sends
// "huddle:search-focus" ("/" focuses the field) and "huddle:search-move" (the arrow keys step
// through the results, [data-search-hit] links, and back up to the field). What an answer found
// is said in the form's [data-search-status]. Without a script the field is a plain form: Enter
// opens the search page.
(function () {
  "use strict";

  function form() { return document.querySelector("[data-search]"); }

  function show(root, open) {
    var panel = root.querySelector("[data-search-panel]");
    var field = root.querySelector("[data-search-query]");
    panel.hidden = !(open && panel.children.length > 0 && field.value.trim() !== "");
  }

  // A fresh answer: shown if the field still has the focus, and said in the status (a screen
  // reader hears "Messages found: 3" without leaving the field).
  document.addEventListener("htmx:afterSwap", function (event) {
    var root = event.target.closest && event.target.closest("[data-search]");
    if (!root || !event.target.matches("[data-search-panel]")) return;
    show(root, root.contains(document.activeElement));
    var said = event.target.querySelector("[data-search-said]");
    root.querySelector("[data-search-status]").textContent = said ? said.dataset.searchSaid : "";
  });

  // An emptied field closes the panel at once, without waiting for an answer.
  document.addEventListener("input", function (event) {
    var root = event.target.closest && event.target.closest("[data-search]");
    if (root && event.target.matches("[data-search-query]") && !event.target.value.trim()) show(root, false);
  });

  document.addEventListener("focusin", function (event) {
    var root = event.target.closest && event.target.closest("[data-search]");
    if (root && event.target.matches("[data-search-query]")) show(root, true);
  });

  document.addEventListener("focusout", function (event) {
    var root = event.target.closest && event.target.closest("[data-search]");
    if (root && !(event.relatedTarget && root.contains(event.relatedTarget))) show(root, false);
  });

  document.addEventListener("huddle:search-focus", function () {
    var root = form();
    if (!root) return;
    var field = root.querySelector("[data-search-query]");
    field.focus();
    field.select();
  });

  document.addEventListener("huddle:search-close", function () {
    var root = form();
    if (!root) return;
    show(root, false);
    root.querySelector("[data-search-query]").focus();
  });

  document.addEventListener("huddle:search-move", function (event) {
    var root = form();
    if (!root) return;
    var field = root.querySelector("[data-search-query]");
    var panel = root.querySelector("[data-search-panel]");
    if (panel.hidden) show(root, true);
    if (panel.hidden) return;
    var hits = Array.prototype.slice.call(panel.querySelectorAll("[data-search-hit]"));
    var at = hits.indexOf(event.detail.from);  // -1: from the field
    var next = at + event.detail.step;
    if (next < 0) field.focus();
    else if (next < hits.length) hits[next].focus();
  });
})();

// Confirmations of in-place changes ("Saved maya."): the server asks for one with an HX-Trigger
// header (app/web/htmx.toast) that htmx turns into a `huddle:toast` event; it appears in the one
// polite region #toasts, at most three at a time, each gone after six seconds. Form errors are
// never toasts: they stay by their field.
(function () {
  "use strict";

  var SHOWN = 3, LASTS = 6000;

  document.addEventListener("huddle:toast", function (event) {
    var region = document.getElementById("toasts");
    if (!region || !event.detail || !event.detail.message) return;
    var p = document.createElement("p");
    p.className = "toast";
    p.textContent = event.detail.message;
    region.append(p);
    while (region.children.length > SHOWN) region.firstElementChild.remove();
    setTimeout(function () { p.remove(); }, LASTS);
  });
})();

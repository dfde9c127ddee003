// The composer ([data-composer]): every message gets a client id before it is sent, so a send
// retried after a lost answer is stored once. A send that never reached the server keeps the
// text and shows "Not sent — Retry" (its .send-failed line, which resends with the same id).
// After a send the server returns an empty composer, after an error (422) the text with the
// message beside it: either way the focus stays in it, at the end of the text. On opening a
// conversation the focus starts there, unless a permalink points at a message. (Enter sends:
// keys.js.)
(function () {
  "use strict";

  function composerOf(el) {
    return el && el.closest ? el.closest("[data-composer]") : null;
  }

  function newClientId(form) {
    var field = form.querySelector("input[name=client_id]");
    if (field && !field.value) {
      field.value = (window.crypto && crypto.randomUUID) ? crypto.randomUUID()
        : String(Date.now()) + Math.random().toString(16).slice(2);
    }
  }

  function showFailed(form, shown) {
    var failed = form.querySelector(".send-failed");
    if (failed) failed.hidden = !shown;
  }

  document.addEventListener("submit", function (event) {
    if (event.target.matches("[data-composer]")) newClientId(event.target);
  }, true);

  document.addEventListener("htmx:beforeRequest", function (event) {
    var form = event.detail.elt;
    if (!form || !form.matches || !form.matches("[data-composer]")) return;
    showFailed(form, false);
    newClientId(form);
  });

  document.addEventListener("htmx:sendError", function (event) {
    var form = composerOf(event.detail.elt);
    if (form) showFailed(form, true);
  });

  document.addEventListener("htmx:afterSwap", function (event) {
    if (!event.target.matches || !event.target.matches("[data-composer]")) return;
    var area = event.target.querySelector("textarea");
    if (area) { area.focus(); area.setSelectionRange(area.value.length, area.value.length); }
  });

  document.addEventListener("DOMContentLoaded", function () {
    var area = document.querySelector("[data-composer] textarea");
    if (area && !document.querySelector("[data-highlight]")) area.focus();
  });
})();

// Replying to a message. A message's "Reply" ([data-reply], in its "⋯" menu, carrying the
// original's id, author and first words) puts "Replying to Ada: first words… ×" over its
// conversation's composer (data-reply-composer: a thread's panel has its own): its
// [data-reply-bar], whose [data-reply-to] input composer.js sends with the next message; the
// focus stays in the box. × ([data-reply-cancel]) and Escape (keys.js clicks ×) cancel. The bar
// goes once the send shows (`huddle:sending`: the stand-in's data-replying) and comes back if the
// server refuses it (422, 429: the text comes back too). A reply's quote ([data-reply-quote], the
// original's permalink) scrolls to the original in place and highlights it when it is on the
// page; else the link opens it in context. Without a script Reply is a link to the conversation
// with the bar, and × a link back without it. What the bar says is also said to screen readers
// ([data-reply-status], a status region that is never hidden).
(function () {
  "use strict";

  // The composer a message's Reply fills: its own conversation's (a thread's panel has its own).
  function composerOf(link) {
    return document.getElementById(link.dataset.replyComposer) || document.querySelector("[data-composer]");
  }

  function set(form, id, name, excerpt) {
    var el = form && form.querySelector("[data-reply-bar]");
    if (!el) return;
    el.querySelector("[data-reply-to]").value = id || "";
    el.querySelector("[data-reply-name]").textContent = name || "";
    el.querySelector("[data-reply-excerpt]").textContent = excerpt || "";
    el.hidden = !id;
    var status = form.querySelector("[data-reply-status]");  // said to screen readers
    if (status) status.textContent = id ? "Replying to " + name + ": " + excerpt : "";
  }

  function focusBox(form) {
    var area = form && form.querySelector("textarea");
    if (area && !area.disabled) area.focus();
  }

  function from(link) {
    var form = composerOf(link);
    set(form, link.dataset.reply, link.dataset.replyName, link.dataset.replyExcerpt);
    return form;
  }

  function show(original) {
    document.querySelectorAll(".message.highlight").forEach(function (el) { el.classList.remove("highlight"); });
    original.classList.add("highlight");
    original.scrollIntoView({ block: "center" });
    original.tabIndex = -1;  // the keyboard goes on from the original
    original.focus({ preventScroll: true });
  }

  document.addEventListener("click", function (event) {
    var target = event.target instanceof Element ? event.target : null;
    if (!target || event.ctrlKey || event.metaKey || event.shiftKey || event.altKey) return;
    var link = target.closest("[data-reply]");
    if (link && composerOf(link) && composerOf(link).querySelector("[data-reply-bar]")) {
      event.preventDefault();
      focusBox(from(link));
      return;
    }
    var form = target.closest("[data-reply-cancel]") && target.closest("[data-composer]");
    if (form) {
      event.preventDefault();
      set(form, "");
      focusBox(form);
      return;
    }
    var quote = target.closest("[data-reply-quote]");
    var original = quote && document.getElementById(quote.dataset.replyQuote);
    if (original && original.closest("[data-messages]")) {
      event.preventDefault();
      show(original);
    }
  });

  // The send is on its way (its stand-in shows): the bar has gone with it.
  document.addEventListener("huddle:sending", function (event) {
    var sent = event.detail && event.detail.element;
    if (!sent || !sent.dataset.replying) return;
    document.querySelectorAll("[data-composer]").forEach(function (form) {
      var field = form.querySelector("[data-reply-to]");
      if (field && field.value === sent.dataset.replying) set(form, "");
    });
  });

  // Refused (422, 429): the reply is still to be sent, so the bar comes back with the text, unless
  // another reply was chosen meanwhile or the original is gone from the page.
  document.addEventListener("htmx:beforeSwap", function (event) {
    var sent = event.detail.target;
    var status = event.detail.xhr.status;
    if (!sent || !sent.dataset || !sent.dataset.replying || (status !== 422 && status !== 429)) return;
    var link = document.querySelector("#message-" + sent.dataset.replying + " [data-reply]");
    var el = link && composerOf(link) && composerOf(link).querySelector("[data-reply-bar]");
    if (el && el.hidden) from(link);
  });
})();

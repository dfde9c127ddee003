// Replying to a message. A message's "Reply" ([data-reply], in its "⋯" menu, carrying the
// original's id, author and first words) puts "Replying to Ada: first words… ×" over the composer
// ([data-reply-bar], whose [data-reply-to] input composer.js sends with the next message) and
// keeps the focus in the text area. × ([data-reply-cancel]) and Escape (keys.js clicks ×) cancel.
// The bar goes once the send shows (`huddle:sending`: the stand-in's data-replying) and comes
// back if the server refuses it (422, 429: the text comes back too). A reply's quote
// ([data-reply-quote], the original's permalink) scrolls to the original in place and highlights
// it when it is on the page; else the link opens it in context. Without a script Reply is a link
// to the conversation with the bar, and × a link back without it. What the bar says is also said
// to screen readers ([data-reply-status], a status region that is never hidden).
(function () {
  "use strict";

  function bar() { return document.querySelector("[data-composer] [data-reply-bar]"); }

  function set(id, name, excerpt) {
    var el = bar();
    if (!el) return;
    el.querySelector("[data-reply-to]").value = id || "";
    el.querySelector("[data-reply-name]").textContent = name || "";
    el.querySelector("[data-reply-excerpt]").textContent = excerpt || "";
    el.hidden = !id;
    var status = document.querySelector("[data-composer] [data-reply-status]");  // said to screen readers
    if (status) status.textContent = id ? "Replying to " + name + ": " + excerpt : "";
  }

  function focusBox() {
    var area = document.querySelector("[data-composer] textarea");
    if (area && !area.disabled) area.focus();
  }

  function from(link) {
    set(link.dataset.reply, link.dataset.replyName, link.dataset.replyExcerpt);
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
    if (link && bar()) {
      event.preventDefault();
      from(link);
      focusBox();
      return;
    }
    if (target.closest("[data-reply-cancel]")) {
      event.preventDefault();
      set("");
      focusBox();
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
    var el = bar();
    var sent = event.detail && event.detail.element;
    if (el && sent && sent.dataset.replying && el.querySelector("[data-reply-to]").value === sent.dataset.replying) set("");
  });

  // Refused (422, 429): the reply is still to be sent, so the bar comes back with the text, unless
  // another reply was chosen meanwhile or the original is gone from the page.
  document.addEventListener("htmx:beforeSwap", function (event) {
    var sent = event.detail.target;
    var status = event.detail.xhr.status;
    if (!sent || !sent.dataset || !sent.dataset.replying || (status !== 422 && status !== 429)) return;
    var el = bar();
    var link = document.querySelector("#message-" + sent.dataset.replying + " [data-reply]");
    if (el && el.hidden && link) from(link);
  });
})();

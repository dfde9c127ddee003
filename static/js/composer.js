// The composer ([data-composer]): nothing typed or sent is lost. Enter (keys.js) or Send takes
// the text out of the box at once and shows it in the conversation as "Sending…" (an
// article[data-pending] keyed by its client id); the box is never replaced, so what is typed
// meanwhile stays. Sends go one after another in the order made (a queue: htmx would drop a
// request made while one is in flight), each with its client id, so a retry is stored once. The
// server's answer (the stored message) takes the stand-in's place, or the live push does if it
// comes first (`live:seq` names the message and its client id): one element, never two. A send
// that never got its answer turns into "Not sent — Retry" with its text kept, and holds the ones
// after it back, so the order stays; an error (422, 429) puts the text back in the box with the
// error beside it. From a page holding the past (a permalink), a send goes to the latest first
// (latest.js: `huddle:to-latest`, then `huddle:at-latest`), so my message never goes in the middle
// of history. Uploaded files (attach.js, `huddle:take-files`) go by id, their chips on the stand-in
// (put back if refused). The focus starts in the box, unless a permalink points at a message.
// Without a script the form is a plain POST and a redirect.
(function () {
  "use strict";

  var queue = [];      // {form, url, body, clientId, el, failed, files (chips), ids}, oldest first
  var inFlight = null; // the one being sent
  var catchingUp = false; // the newest page is on its way in place of the past: sends wait

  function newClientId() {
    return (window.crypto && crypto.randomUUID) ? crypto.randomUUID()
      : String(Date.now()) + Math.random().toString(16).slice(2);
  }

  function showError(form, message) {
    var area = form.querySelector("textarea");
    var error = form.querySelector("[data-composer-error]");
    if (error) { error.textContent = message || ""; error.hidden = !message; }
    if (!message) return ["aria-invalid", "aria-describedby"].forEach(function (name) { area.removeAttribute(name); });
    area.setAttribute("aria-invalid", "true");
    if (error) area.setAttribute("aria-describedby", error.id);
  }

  function make(tag, className, text) {
    var el = document.createElement(tag);
    el.className = className;
    if (text) el.textContent = text;
    return el;
  }

  function standIn(form, text, clientId, chips) {
    var el = make("article", "message pending");
    el.id = "pending-" + clientId;
    el.dataset.pending = "";
    el.dataset.clientId = clientId;
    el.dataset.author = document.body.dataset.me || "";
    var head = make("header", "message-head");
    head.append(make("span", "author", document.body.dataset.meName || ""));
    var files = make("ul", "attach-chips");  // the files going with it: attach.js's chips
    files.append.apply(files, chips);
    var failed = make("p", "send-failed field-error");
    failed.setAttribute("role", "alert");
    failed.hidden = true;
    var retry = make("button", "button link small", "Retry");
    retry.type = "button";
    retry.addEventListener("click", function () { retryFrom(clientId); });
    failed.append("Not sent — Huddle could not be reached. ", retry);
    el.append(head, make("div", "message-body", text), files, make("p", "sending muted", "Sending…"), failed);
    return el;
  }

  function setFailed(item, failed) {
    if (item.confirmed) return;  // stored after all: the live push said so
    item.failed = failed;
    item.el.querySelector(".send-failed").hidden = !failed;
    item.el.querySelector(".sending").hidden = failed;
  }

  function send(form) {
    var area = form.querySelector("textarea");
    var text = area.value;
    var files = { form: form, ids: [], chips: [], busy: false };
    document.dispatchEvent(new CustomEvent("huddle:take-files", { detail: files }));
    if (files.busy) return showError(form, "Wait until the files are uploaded, then send.");
    if (!text.trim() && !files.ids.length) return;
    var field = form.querySelector("input[name=client_id]");
    var clientId = (field && field.value) || newClientId();
    if (field) field.value = "";
    var item = { form: form, url: form.getAttribute("action"), body: text, clientId: clientId, failed: false,
                 files: files.chips, ids: files.ids };
    item.el = standIn(form, text, clientId, files.chips);
    item.el.dataset.replying = (form.querySelector("[data-reply-to]") || {}).value || "";  // reply.js's bar
    var ask = form.querySelector("[data-composer-confirm] input");  // "Notify all members" (@everyone): this send's
    if ((item.ask = ask)) { item.everyone = ask.checked; ask.checked = false; ask.closest("p").hidden = true; }
    area.value = "";  // only what is sent leaves; the box stays, and the focus in it
    showError(form, "");
    queue.push(item);
    // On a page holding the past, latest.js brings the newest in first (it cancels this event to
    // say so); what waits is shown and sent at `huddle:at-latest`.
    if (catchingUp || !document.dispatchEvent(new CustomEvent("huddle:to-latest", { cancelable: true }))) {
      catchingUp = true;
      return;
    }
    show(item);
    next();
  }

  function show(item) {
    var list = item.form.parentElement.querySelector("[data-messages]");  // its own (a thread's panel has one)
    if (list && !item.el.isConnected) list.append(item.el);
    var empty = item.form.parentElement.querySelector(".empty-conversation");
    if (empty) empty.remove();
    document.dispatchEvent(new CustomEvent("huddle:sending", { detail: { element: item.el } }));
  }

  function next() {
    if (catchingUp || inFlight || !queue.length || queue[0].failed) return;
    var item = inFlight = queue[0];
    function settled() {
      inFlight = null;
      if (!item.failed) queue.splice(queue.indexOf(item), 1);
      next();
    }
    htmx.ajax("POST", item.url, {
      source: item.form, target: item.el, swap: "outerHTML settle:0ms",
      values: { body: item.body, client_id: item.clientId, confirm_everyone: item.everyone ? "1" : "", attachments: item.ids,
                reply_to: item.el.dataset.replying },
    }).then(settled, function () { setFailed(item, true); settled(); });
  }

  document.addEventListener("huddle:at-latest", function () { catchingUp = false; queue.forEach(show); next(); });

  function retryFrom(clientId) {
    queue.forEach(function (item) { if (item.clientId === clientId) setFailed(item, false); });
    next();
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.matches("[data-composer]") || !window.htmx) {
      // A plain form with a client id (New message) gets one, so a double send is stored once.
      var field = form.querySelector("input[name=client_id]");
      if (field && !field.value) field.value = newClientId();
      return;
    }
    event.preventDefault();
    send(form);
  });

  // The answer to a send: the stored message takes the stand-in's place, unless the live push
  // already put it there; an error puts the text back in the box.
  document.addEventListener("htmx:beforeSwap", function (event) {
    var item = inFlight;
    if (!item || event.detail.target !== item.el) return;
    var status = event.detail.xhr.status;
    if (status >= 200 && status < 300) {
      var found = /id="(message-\d+)"/.exec(event.detail.serverResponse || "");
      var there = found && document.getElementById(found[1]);
      if (!item.el.isConnected || (there && there !== item.el)) {
        event.detail.shouldSwap = false;
        item.el.remove();
      }
      return;
    }
    event.detail.shouldSwap = false;
    if (status === 422 || status === 429) {
      var answer = new DOMParser().parseFromString(event.detail.serverResponse || "", "text/html");
      var said = answer.querySelector("[data-composer-error]");
      if (item.ask) item.ask.closest("p").hidden = !answer.querySelector("[data-composer-confirm]:not([hidden])");
      var area = item.form.querySelector("textarea");
      area.value = area.value ? item.body + "\n" + area.value : item.body;
      var chips = item.form.querySelector("[data-attach-chips]");
      if (chips) chips.prepend.apply(chips, item.files);  // the files too, to send again
      showError(item.form, said ? said.textContent : "Not sent.");
      item.el.remove();
      area.focus();
    } else {
      setFailed(item, true);
    }
  });

  document.addEventListener("htmx:sendError", function (event) {
    if (inFlight && event.detail.elt === inFlight.form) setFailed(inFlight, true);
  });

  // The live push of my own new message, before (or instead of) the answer: the stand-in becomes
  // that message's element, which cursor.js then replaces in place.
  document.addEventListener("live:seq", function (event) {
    var clientId = event.detail.clientId;
    if (!clientId || event.detail.kind !== "message.created") return;
    queue.slice().forEach(function (item) {
      if (item.clientId !== clientId) return;
      item.confirmed = true;
      item.failed = false;
      item.el.id = "message-" + event.detail.message;
      if (item !== inFlight) queue.splice(queue.indexOf(item), 1);
    });
    next();
  });

  document.addEventListener("DOMContentLoaded", function () {
    var area = document.querySelector("[data-composer] textarea");
    if (area && !document.querySelector("[data-highlight]")) {
      area.focus();
      area.setSelectionRange(area.value.length, area.value.length);
    }
  });
})();

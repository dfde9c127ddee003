// The page's live connection (#live, htmx's ws extension), in one place. It comes back within
// ~5 s after a restart, not htmx's minute; while it is down the header says "Reconnecting…"
// (body[data-live]) with a "Retry now" button; if it cannot come back because the session ended
// (asked at #live[data-session-url]), the page goes to the login page; a tab closed for being
// one too many (code 4008) says so. On every (re)open it says hello: a `huddle:hello` event lets
// each behaviour add what the server should know (whose presence is shown, where the conversation
// is), so the server sends what the page missed. Each #live-<name> element the server pushes
// becomes one `live:<name>` event, exactly once, with its data attributes as detail; the
// placeholders are only addresses and stay empty. `huddle:send` events go out on the socket.
// The server's orders (#live-control) are obeyed here: log out, or reload a page of one scope.
(function () {
  "use strict";

  var socket = null;
  var leaving = false;  // once this page is being left, its socket closing means nothing
  window.addEventListener("beforeunload", function () { leaving = true; });
  window.addEventListener("pageshow", function () { leaving = false; });

  function urls() { return (document.getElementById("live") || document.body).dataset; }

  if (window.htmx) {
    htmx.config.wsReconnectDelay = function (retries) {
      return Math.min(5000, 500 * Math.pow(2, retries)) * (0.5 + Math.random() / 2);
    };
  }

  document.addEventListener("htmx:wsOpen", function (event) {
    socket = event.detail.socketWrapper;
    document.body.dataset.live = "open";
    var hello = { type: "hello" };
    document.dispatchEvent(new CustomEvent("huddle:hello", { detail: hello }));
    socket.send(JSON.stringify(hello));
  });

  document.addEventListener("htmx:wsClose", function (event) {
    document.body.dataset.live = "closed";
    document.dispatchEvent(new CustomEvent("huddle:closed"));
    offerRetry(event.detail.socketWrapper);
    var code = event.detail.event.code;
    if (leaving || code === 1000) return;
    if (code === 4008) {
      // Too many open tabs: the server closed this, the oldest. htmx will not reconnect it.
      document.body.dataset.live = "replaced";
      return;
    }
    // The handshake is refused once a session ends: is it still there?
    fetch(urls().sessionUrl, { credentials: "same-origin" }).then(function (response) {
      if (response.status === 401) window.location.replace(urls().expiredUrl);
    }, function () { /* offline: htmx keeps trying to reconnect */ });
  });

  // "Reconnecting…" offers to try at once instead of waiting.
  function offerRetry(wrapper) {
    var status = document.querySelector("[data-live-status]");
    if (!status || status.querySelector("button")) return;
    var retry = document.createElement("button");
    retry.type = "button";
    retry.className = "button link small";
    retry.textContent = "Retry now";
    retry.addEventListener("click", function () { wrapper.reconnect(); });
    status.append(" ", retry);
  }

  document.addEventListener("huddle:send", function (event) {
    if (socket) socket.send(JSON.stringify(event.detail));
  });

  document.addEventListener("htmx:oobBeforeSwap", function (event) {
    var incoming = event.detail.fragment && event.detail.fragment.firstElementChild;
    if (!incoming || !/^live-/.test(incoming.id) || !event.detail.target.closest("#live")) return;
    event.detail.shouldSwap = false;
    var name = "live:" + incoming.id.slice("live-".length);
    document.dispatchEvent(new CustomEvent(name, { detail: Object.assign({}, incoming.dataset) }));
  });

  document.addEventListener("live:control", function (event) {
    var order = event.detail;
    if (leaving) return;
    if (order.action === "logout") {
      window.location.replace(order.location || urls().loginUrl);
    } else if (order.action === "reload" && order.scope === document.body.dataset.scope) {
      window.location.reload();
    }
  });
})();

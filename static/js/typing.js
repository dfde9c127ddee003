// "ada is typing…": while others type in the conversation this page shows (#conversation), one
// polite line above the composer names them. Each `live:typing` start keeps a name for 5 s; it
// goes sooner when they stop, when their message arrives (`live:seq`), and when this page's
// socket closes or reopens (`huddle:closed`, `huddle:hello`): never stuck. And my own typing in
// the conversation's text areas: at most one "start" every 2 s while I type, a "stop" when I
// clear the text or send (`huddle:send`, which live.js puts on the socket).
(function () {
  "use strict";

  var TYPING_TTL = 5000, SIGNAL_EVERY = 2000;
  var pane = document.getElementById("conversation");
  var current = pane ? Number(pane.dataset.conversation) : null;
  var me = document.body.dataset.me || "";
  var typers = {};  // user id → { name, timer }

  function line() {
    var indicator = document.getElementById("typing-indicator");
    if (!indicator && pane) {
      indicator = document.createElement("p");
      indicator.id = "typing-indicator";
      indicator.className = "typing muted";
      indicator.setAttribute("aria-live", "polite");
      pane.insertBefore(indicator, pane.querySelector("[data-composer]"));
    }
    return indicator;
  }

  function render() {
    var indicator = line();
    if (!indicator) return;
    var names = Object.keys(typers).map(function (id) { return typers[id].name; }).sort();
    indicator.textContent = names.length === 0 ? "" : names.length === 1 ? names[0] + " is typing…"
      : names.length === 2 ? names[0] + " and " + names[1] + " are typing…" : "Several people are typing…";
  }

  function start(user, name) {
    if (typers[user]) clearTimeout(typers[user].timer);
    typers[user] = { name: name, timer: setTimeout(function () { stop(user); }, TYPING_TTL) };
    render();
  }

  function stop(user) {
    if (!typers[user]) return;
    clearTimeout(typers[user].timer);
    delete typers[user];
    render();
  }

  function stopAll() {
    Object.keys(typers).forEach(function (user) { clearTimeout(typers[user].timer); delete typers[user]; });
    render();
  }

  document.addEventListener("live:typing", function (event) {
    var signal = event.detail;
    if (!signal.conversation || Number(signal.conversation) !== current || signal.user === me) return;
    if (signal.state === "stop") stop(signal.user);
    else start(signal.user, signal.name);
  });
  document.addEventListener("live:seq", function (event) {
    var seq = event.detail;
    if (Number(seq.conversation) === current && seq.kind === "message.created") stop(seq.author);
  });
  document.addEventListener("huddle:hello", stopAll);
  document.addEventListener("huddle:closed", stopAll);

  var lastSignal = 0;
  function signal(state) {
    if (!current) return;
    document.dispatchEvent(new CustomEvent("huddle:send", {
      detail: { type: "typing", conversation: current, state: state } }));
  }
  document.addEventListener("input", function (event) {
    if (!pane || !pane.contains(event.target) || !event.target.matches("textarea[name=body]")) return;
    if (!event.target.value.trim()) { if (lastSignal) { lastSignal = 0; signal("stop"); } return; }
    var now = Date.now();
    if (now - lastSignal > SIGNAL_EVERY) { lastSignal = now; signal("start"); }
  });
  document.addEventListener("submit", function (event) {
    if (pane && pane.contains(event.target) && lastSignal) { lastSignal = 0; signal("stop"); }
  }, true);
})();

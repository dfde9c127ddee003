// Telling the server what this page shows: nobody is notified of a conversation they are looking
// at. On every (re)open of the socket (`huddle:hello`) and whenever the tab is shown or hidden
// (visibilitychange), a `viewing` message (through `huddle:send`) names the conversation this
// page shows (#conversation[data-conversation], none elsewhere) and whether the tab is visible.
// The server forgets it when the socket closes.
(function () {
  "use strict";

  var pane = document.getElementById("conversation");
  var current = pane && pane.dataset.conversation ? Number(pane.dataset.conversation) : null;

  function say() {
    document.dispatchEvent(new CustomEvent("huddle:send", { detail: {
      type: "viewing", conversation: current, visible: document.visibilityState === "visible" } }));
  }

  document.addEventListener("huddle:hello", say);
  document.addEventListener("visibilitychange", say);
})();

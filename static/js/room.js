// A room's page follows the room: a rename, a new topic or archiving shows in its header at once
// (`live:room` from templates/chat/_room_event.html: data-title, data-topic, data-state), and an
// archived room's composer turns off with the reason said above it. When I am no longer in the
// room (removed, the room deleted, left in another tab: `live:room` with data-state "removed",
// "deleted" or "left", from templates/chat/_membership_event.html) the page says so
// ([data-room-notice], an alert) and the composer turns off, keeping what was typed in it.
// Elements: #conversation (data-conversation, data-room-state), [data-room-title],
// [data-room-topic], [data-room-notice], the [data-composer]'s box and button.
(function () {
  "use strict";

  var pane = document.getElementById("conversation");
  if (!pane) return;

  function composerOff(off) {
    pane.querySelectorAll("[data-composer] textarea, [data-composer] button").forEach(function (el) {
      el.disabled = off;
    });
  }

  document.addEventListener("live:room", function (event) {
    var room = event.detail;
    if (room.conversation !== pane.dataset.conversation || pane.dataset.roomState === "gone") return;
    var title = pane.querySelector("[data-room-title]");
    var topic = pane.querySelector("[data-room-topic]");
    var notice = pane.querySelector("[data-room-notice]");
    if (room.title && title) title.textContent = room.title;
    if (room.title && topic) {  // a header event: its topic, empty or not
      topic.textContent = room.topic || "";
      topic.hidden = !room.topic;
    }
    var gone = room.state === "removed" || room.state === "deleted" || room.state === "left";
    pane.dataset.roomState = gone ? "gone" : room.state;
    composerOff(room.state !== "active");
    if (notice) {
      notice.textContent = room.notice || "";
      notice.hidden = !room.notice;
    }
  });
})();

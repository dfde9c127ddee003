// A room's page follows the room: a rename, a new topic or archiving shows in its header at once
// (`live:room` from templates/chat/_room_event.html: data-title, data-topic, data-state), and an
// archived room's composer turns off with the reason said above it; a rename also renames the
// tab's title and the composer's placeholder. When I am no longer in the
// room (removed, the room deleted, left in another tab: `live:room` with data-state "removed",
// "deleted" or "left", from templates/chat/_membership_event.html) the page says so
// ([data-room-notice], an alert) and the composer turns off, keeping what was typed in it.
// A page previewing an open room I am not in (#conversation[data-preview]) follows it from
// `live:rooms` instead (templates/chat/_rooms_event.html), and its Join button
// ([data-room-join]) turns off once the room is closed or deleted.
// Elements: #conversation (data-conversation, data-room-state), [data-room-title],
// [data-room-topic], [data-room-notice], the [data-composer]'s box and button.
(function () {
  "use strict";

  var pane = document.getElementById("conversation");
  if (!pane) return;

  function turnOff(selector, off) {
    pane.querySelectorAll(selector).forEach(function (el) { el.disabled = off; });
  }

  function apply(room) {
    if (room.conversation !== pane.dataset.conversation || pane.dataset.roomState === "gone") return;
    var title = pane.querySelector("[data-room-title]");
    var topic = pane.querySelector("[data-room-topic]");
    var notice = pane.querySelector("[data-room-notice]");
    if (room.title && title && title.textContent !== room.title) {
      // the tab's title ("(3) #old · Huddle") and the box's "Message #old" follow the rename
      var before = title.textContent;
      document.title = document.title.replace(before, room.title);
      var box = pane.querySelector("[data-composer] textarea");
      if (box && box.placeholder === "Message " + before) box.placeholder = "Message " + room.title;
      title.textContent = room.title;
    }
    if (room.title && topic) {  // a header: its topic, empty or not
      topic.textContent = room.topic || "";
      topic.hidden = !room.topic;
    }
    var gone = ["removed", "deleted", "left", "closed"].indexOf(room.state) >= 0;
    pane.dataset.roomState = gone ? "gone" : room.state;
    turnOff("[data-composer] textarea, [data-composer] button", room.state !== "active");
    turnOff("[data-room-join]", gone);
    if (notice) {
      notice.textContent = room.notice || "";
      notice.hidden = !room.notice;
    }
  }

  document.addEventListener("live:room", function (event) { apply(event.detail); });
  document.addEventListener("live:rooms", function (event) {
    if (pane.hasAttribute("data-preview")) apply(event.detail);
  });
})();

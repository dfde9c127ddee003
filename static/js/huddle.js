// Huddle's only script of its own: report failed htmx requests where the user is looking.
(function () {
  "use strict";
  function say(text) {
    var region = document.getElementById("flash");
    if (!region) return;
    var p = document.createElement("p");
    p.className = "notice error";
    p.setAttribute("role", "alert");
    p.textContent = text;
    region.replaceChildren(p);
  }
  document.addEventListener("htmx:responseError", function (event) {
    var xhr = event.detail.xhr;
    var messages = {
      403: "You are not allowed to do that, or the page is out of date: reload it and try again.",
      404: "That no longer exists. Reload the page to see the latest.",
      413: "That is larger than Huddle accepts.",
    };
    say(messages[xhr.status] || "Something went wrong (" + xhr.status + "). Please try again.");
  });
  document.addEventListener("htmx:sendError", function () {
    say("Huddle could not be reached. Check your connection and try again.");
  });
})();

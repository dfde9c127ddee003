// Request failures, said where the person is looking: an htmx request that the server refused
// (403, 404, 413, 5xx) or that never reached it puts one alert in #flash, in plain words; the
// next request that works takes it away again. Form errors (422) are not failures: the form comes
// back with the message beside its field.
(function () {
  "use strict";

  var MESSAGES = {
    403: "You are not allowed to do that, or the page is out of date: reload it and try again.",
    404: "That no longer exists. Reload the page to see the latest.",
    413: "That is larger than Huddle accepts.",
  };

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
    var status = event.detail.xhr.status;
    say(MESSAGES[status] || "Something went wrong (" + status + "). Please try again.");
  });
  document.addEventListener("htmx:sendError", function () {
    say("Huddle could not be reached. Check your connection and try again.");
  });
  // Once a request works again, the error banner it left has said its piece.
  document.addEventListener("htmx:afterRequest", function (event) {
    if (!event.detail.successful) return;
    document.querySelectorAll("#flash .notice.error").forEach(function (p) { p.remove(); });
  });
})();

// Every <time datetime> reads in the viewer's own time zone: relative ("5 min ago", "in 3 days")
// with the exact local time and zone on hover. data-time="date" shows just the local date, and
// data-time="clock" (chat messages) the time of day for today. Applied on load, to whatever htmx
// or the live channel swaps in, and every 30 s so "just now" ages. Without JavaScript the
// server's UTC text stays.
(function () {
  "use strict";

  var exact = window.Intl ? new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" }) : null;
  var dateOnly = window.Intl ? new Intl.DateTimeFormat(undefined, { dateStyle: "medium" }) : null;
  var zone = "";
  try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone || ""; } catch (e) { zone = ""; }

  function sameDay(a, b) { return a.toDateString() === b.toDateString(); }

  function describe(date, style) {
    var now = new Date();
    if (style === "date") return dateOnly ? dateOnly.format(date) : date.toLocaleDateString();
    var seconds = (now.getTime() - date.getTime()) / 1000;
    var future = seconds < 0, size = Math.abs(seconds);
    function ago(n, unit) { return future ? "in " + n + " " + unit : n + " " + unit + " ago"; }
    if (size < 45) return "just now";
    if (size < 3600) return ago(Math.max(1, Math.round(size / 60)), "min");
    if (style === "clock" && sameDay(now, date)) {
      return date.toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit" });
    }
    if (size < 86400) { var h = Math.round(size / 3600); return ago(h, h === 1 ? "hour" : "hours"); }
    if (size < 7 * 86400) { var d = Math.round(size / 86400); return ago(d, d === 1 ? "day" : "days"); }
    return exact ? exact.format(date) : date.toLocaleString();
  }

  function localTimes() {
    document.querySelectorAll("time[datetime]").forEach(function (time) {
      var date = new Date(time.getAttribute("datetime"));
      if (isNaN(date)) return;
      time.textContent = describe(date, time.dataset.time);
      time.title = (exact ? exact.format(date) : date.toLocaleString()) + (zone ? " (" + zone + ")" : "");
    });
  }

  // The whole page each time (a few hundred elements at most): a message the live channel
  // replaced in place (cursor.js) is in no swap event's target.
  localTimes();  // at once: the layout loads this deferred and render-blocking, so before the first paint
  ["htmx:afterSwap", "htmx:oobAfterSwap", "htmx:wsAfterMessage"].forEach(function (name) {
    document.addEventListener(name, localTimes);
  });
  setInterval(localTimes, 30000);
})();

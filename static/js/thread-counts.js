// The sidebar's "Threads" entry ([data-threads-entry]): the unread replies and unread mentions of the
// threads I follow, live. The page carries the totals ([data-threads-unread], [data-threads-mentions]:
// data-count) and, compactly, only the threads with something unread ([data-thread-counts]: JSON,
// thread id -> [unread, mentions]; the most unread ones if there are very many: what is not listed
// stays in the totals as it was). A conversation with no count of its own in the sidebar (rooms and
// directs have conversation-<id>-mentions) is a followed thread, as a socket hears threads only by
// following them or showing them; one only shown is counted if its Follow button says so. Then:
// another's new message there (`live:seq`) +1; read in any tab (`live:read`) its unread and
// mentions as left; a mention of me there (`live:mention`, counted) ±1; the hello's snapshot
// (`live:unread`, data-threads) and a sidebar fetched again (lists.js) set everything anew.
(function () {
  "use strict";

  var me = document.body.dataset.me || "";
  var entry = null;   // the [data-threads-entry] the counts were read from
  var counts = {};    // thread id -> [unread, mentions]
  var rest = [0, 0];  // in the totals but not listed

  function parse(text) {
    try { return JSON.parse(text || "{}") || {}; } catch (e) { return {}; }
  }
  function countOf(badge) { return badge ? Number(badge.dataset.count || 0) : 0; }
  function sums() {
    var total = [0, 0];
    Object.keys(counts).forEach(function (id) { total[0] += counts[id][0]; total[1] += counts[id][1]; });
    return total;
  }

  function reset(listed, unread, mentions) {
    counts = {};
    Object.keys(listed).forEach(function (id) {
      var pair = listed[id];
      counts[id] = [Number(pair[0] || 0), Number(pair[1] || 0)];
    });
    var listedSums = sums();
    rest = [Math.max(0, unread - listedSums[0]), Math.max(0, mentions - listedSums[1])];
  }

  // The entry as the page (or a sidebar fetched again) rendered it.
  function current() {
    var found = document.querySelector("[data-threads-entry]");
    if (found !== entry) {
      entry = found;
      if (entry) {
        reset(parse(entry.dataset.threadCounts), countOf(entry.querySelector("[data-threads-unread]")),
              countOf(entry.querySelector("[data-threads-mentions]")));
      }
    }
    return entry;
  }

  function show(badge, count) {
    if (!badge) return;
    badge.dataset.count = String(count);
    var text = badge.querySelector("[data-count-text]");
    var shown = count >= 100 ? "99+" : String(count);
    if (text) text.textContent = shown; else badge.textContent = shown;
    badge.hidden = !count;
  }
  function render() {
    if (!current()) return;
    var total = sums();
    show(entry.querySelector("[data-threads-unread]"), rest[0] + total[0]);
    show(entry.querySelector("[data-threads-mentions]"), rest[1] + total[1]);
  }

  // A followed thread: no count of its own in the sidebar; if it is shown here (a panel, its page),
  // its Follow button says whether I follow it.
  function followed(id) {
    if (!current() || document.getElementById("conversation-" + id + "-mentions")) return false;
    var shown = document.querySelector('[data-thread="' + id + '"]');
    var button = shown && shown.querySelector("[data-thread-follow]");
    return !button || button.dataset.threadFollow === "on";
  }
  function change(id, index, value) {
    var pair = counts[id] || [0, 0];
    pair[index] = Math.max(0, value);
    if (pair[0] || pair[1]) counts[id] = pair; else delete counts[id];
    render();
  }
  function counted(id, index) { return counts[id] ? counts[id][index] : 0; }

  document.addEventListener("live:seq", function (event) {
    var seq = event.detail;
    var id = String(Number(seq.conversation));
    if (seq.kind !== "message.created" || seq.author === me || !followed(id)) return;
    change(id, 0, counted(id, 0) + 1);
  });

  document.addEventListener("live:read", function (event) {
    var read = event.detail;
    var id = String(Number(read.conversation));
    if (!read.conversation || !followed(id)) return;
    change(id, 0, Number(read.unread || 0));
    if (read.mentions !== undefined) change(id, 1, Number(read.mentions));
  });

  document.addEventListener("live:mention", function (event) {
    var mention = event.detail;
    var id = String(Number(mention.conversation));
    if (mention.counted !== "1" || !followed(id)) return;
    change(id, 1, counted(id, 1) + (mention.change === "removed" ? -1 : 1));
  });

  document.addEventListener("live:unread", function (event) {
    var snapshot = event.detail;
    if (snapshot.threads === undefined || !current()) return;
    reset(parse(snapshot.threads), Number(snapshot.threadsUnread || 0), Number(snapshot.threadsMentions || 0));
    render();
  });

  // A sidebar fetched again brings its own counts (current() reads them).
  document.addEventListener("htmx:afterSwap", render);
})();

// "@" in a text area that offers people (textarea[data-mention-url]: the composer, an inline edit):
// typing "@" and the start of a name asks data-mention-url (?q=) for the people to offer — at most
// 8, chosen and rendered by the server (app/chat/people.py) — and shows them in the listbox that
// data-mention-list names. While the list is open the text area is a WAI-ARIA combobox (role,
// aria-expanded, aria-controls, aria-activedescendant; a plain text box again once it closes, as
// GitHub's text-expander does), and its form's [data-mention-status] says how many are offered.
// keys.js sends "huddle:mention-move" (Up, Down), "huddle:mention-pick" (Enter, Tab: the chosen
// one, else the first) and "huddle:mention-close" (Escape) only while it is open, so Enter sends
// when it is closed; a tap or click on an option picks it too. A pick puts "@username " in place
// of the "@..." just typed, at the caret, and changes nothing else in the box: what is typed
// meanwhile stays. An answer to an older request is dropped. Without a script "@" is just text.
(function () {
  "use strict";

  // "@" at the start or after a space or bracket (not in an address), then name characters.
  var TOKEN = /(^|[^\p{L}\p{N}_.@-])@([\p{L}\p{M}\p{N}._-]{0,64})$/u;
  var COMBOBOX = ["role", "aria-autocomplete", "aria-haspopup", "aria-controls", "aria-expanded", "aria-activedescendant"];
  var asked = 0;  // the latest request's number: only its answer is shown
  var timer = null;

  function offers(target) {
    return target instanceof HTMLTextAreaElement && target.dataset.mentionUrl ? target : null;
  }

  function listOf(area) { return document.getElementById(area.dataset.mentionList); }

  function statusOf(area) { return area.form && area.form.querySelector("[data-mention-status]"); }

  function options(area) {
    var list = listOf(area);
    return list ? Array.prototype.slice.call(list.querySelectorAll('[role="option"]')) : [];
  }

  // What is being typed after "@", and where its "@" is; null when the caret is not in one.
  function typed(area) {
    if (area.selectionStart !== area.selectionEnd) return null;
    var found = TOKEN.exec(area.value.slice(0, area.selectionStart));
    return found ? { q: found[2], start: area.selectionStart - found[2].length - 1 } : null;
  }

  function say(area, text) {
    var status = statusOf(area);
    if (status && status.textContent !== text) status.textContent = text;
  }

  function close(area) {
    asked += 1;  // an answer still on its way opens nothing
    clearTimeout(timer);
    COMBOBOX.forEach(function (name) { area.removeAttribute(name); });
    var list = listOf(area);
    if (list) { list.hidden = true; list.replaceChildren(); }
    say(area, "");
  }

  function show(area, html) {
    var list = listOf(area);
    var answer = new DOMParser().parseFromString(html, "text/html");
    var items = Array.prototype.slice.call(answer.querySelectorAll("[data-mention-options] [data-mention]"));
    if (!list || !items.length) return close(area);
    list.replaceChildren.apply(list, items.map(function (item, index) {
      var option = document.importNode(item, true);
      option.id = list.id + "-" + index;
      option.setAttribute("role", "option");
      option.setAttribute("aria-selected", "false");
      return option;
    }));
    area.removeAttribute("aria-activedescendant");
    area.setAttribute("role", "combobox");
    area.setAttribute("aria-autocomplete", "list");
    area.setAttribute("aria-haspopup", "listbox");
    area.setAttribute("aria-controls", list.id);
    area.setAttribute("aria-expanded", "true");
    list.hidden = false;
    say(area, (items.length === 1 ? "1 person" : items.length + " people") +
      " to mention: Up and Down to choose, Enter to pick, Escape to close.");
  }

  function ask(area, q) {
    var mine = asked += 1;
    var url = new URL(area.dataset.mentionUrl, window.location.href);
    url.searchParams.set("q", q);
    fetch(url, { credentials: "same-origin", headers: { "HX-Request": "true" } }).then(function (response) {
      return response.ok ? response.text() : "";
    }).then(function (html) {
      var now = typed(area);
      if (mine !== asked || document.activeElement !== area || !now || now.q !== q) return;
      show(area, html);
    }, function () { if (mine === asked) close(area); });
  }

  function move(area, step) {
    var all = options(area);
    if (!all.length) return;
    var at = all.findIndex(function (option) { return option.getAttribute("aria-selected") === "true"; });
    var next = at === -1 ? (step > 0 ? 0 : all.length - 1) : (at + step + all.length) % all.length;
    all.forEach(function (option, index) { option.setAttribute("aria-selected", index === next ? "true" : "false"); });
    area.setAttribute("aria-activedescendant", all[next].id);
    all[next].scrollIntoView({ block: "nearest" });
  }

  function fold(text) { return text.normalize("NFKD").replace(/\p{M}/gu, "").toLowerCase(); }

  // Until the answer to what was just typed comes, the list keeps only the options it still fits,
  // so Enter never picks someone the name typed has left behind.
  function narrow(area, q) {
    var wanted = fold(q);
    options(area).forEach(function (option) {
      var words = fold(option.dataset.mention + " " + option.textContent).split(/[\s@._-]+/);
      if (!words.some(function (word) { return word.indexOf(wanted) === 0; })) option.remove();
    });
    var chosen = document.getElementById(area.getAttribute("aria-activedescendant") || "");
    if (!chosen) area.removeAttribute("aria-activedescendant");
    if (!options(area).length) close(area);
  }

  function pick(area, option) {
    var token = typed(area);
    close(area);
    if (!token || !option) return;
    area.focus();
    area.setRangeText("@" + option.dataset.mention + " ", token.start, area.selectionStart, "end");
    area.dispatchEvent(new Event("input", { bubbles: true }));  // others hear the text changed
  }

  document.addEventListener("input", function (event) {
    var area = offers(event.target);
    if (!area) return;
    var token = typed(area);
    if (!token) { if (area.hasAttribute("aria-expanded") || timer) close(area); timer = null; return; }
    if (area.hasAttribute("aria-expanded")) narrow(area, token.q);
    clearTimeout(timer);
    timer = setTimeout(function () { timer = null; ask(area, token.q); }, 60);
  });

  // The caret moved out of the name (a click elsewhere in the text): the list goes.
  document.addEventListener("click", function (event) {
    var area = offers(event.target);
    if (area && area.hasAttribute("aria-expanded") && !typed(area)) close(area);
  });

  document.addEventListener("focusout", function (event) {
    var area = offers(event.target);
    if (area && area.hasAttribute("aria-expanded")) close(area);
  });

  document.addEventListener("submit", function (event) {
    var area = event.target instanceof HTMLFormElement && offers(event.target.querySelector("textarea"));
    if (area && area.hasAttribute("aria-expanded")) close(area);
  });

  // A press on an option keeps the focus (and the caret) in the text area; the click picks.
  document.addEventListener("mousedown", function (event) {
    if (event.target instanceof Element && event.target.closest("[role=listbox] [role=option][data-mention]")) event.preventDefault();
  });

  document.addEventListener("click", function (event) {
    var option = event.target instanceof Element && event.target.closest("[role=option][data-mention]");
    var list = option && option.closest("[role=listbox]");
    var area = list && document.querySelector('[aria-controls="' + list.id + '"]');
    if (area) pick(area, option);
  });

  document.addEventListener("huddle:mention-move", function (event) { move(event.detail.area, event.detail.step); });

  document.addEventListener("huddle:mention-pick", function (event) {
    var area = event.detail.area;
    var all = options(area);
    pick(area, all.find(function (option) { return option.getAttribute("aria-selected") === "true"; }) || all[0]);
  });

  document.addEventListener("huddle:mention-close", function (event) { close(event.detail.area); });
})();

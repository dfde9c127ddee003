// The quick switcher: Ctrl+K (Cmd+K; static/js/keys.js sends "huddle:switcher") opens the
// <dialog data-switcher>, a search box over the sidebar's conversations (#sidebar's links, or the
// sidebar page fetched from data-sidebar-url where the page has none). Typing filters by name;
// Enter opens the first match, Tab reaches each link, Escape closes (the dialog's own) and the
// browser puts the focus back where it was.
(function () {
  "use strict";

  var all = [];  // [{name, href}] of the conversations, read when the switcher opens

  function read(root) {
    var seen = {};
    return Array.prototype.filter.call(root.querySelectorAll(".conversation-list a[href]"), function (a) {
      if (seen[a.href]) return false;
      return (seen[a.href] = true);
    }).map(function (a) { return { name: a.textContent.trim(), href: a.href }; });
  }

  function matches(dialog) {
    var query = dialog.querySelector("[data-switcher-query]").value.trim().toLowerCase().replace(/^#/, "");
    return all.filter(function (item) { return item.name.toLowerCase().replace(/^#/, "").indexOf(query) !== -1; });
  }

  function show(dialog) {
    var list = dialog.querySelector("[data-switcher-results]");
    list.replaceChildren.apply(list, matches(dialog).map(function (item, index) {
      var li = document.createElement("li");
      var a = document.createElement("a");
      a.href = item.href;
      a.textContent = item.name;
      if (index === 0) a.className = "first";
      li.append(a);
      return li;
    }));
    if (!list.children.length) {
      var none = document.createElement("li");
      none.className = "muted";
      none.textContent = "No conversation by that name.";
      list.append(none);
    }
  }

  function open(dialog) {
    dialog.querySelector("[data-switcher-query]").value = "";
    show(dialog);
    if (!dialog.open) dialog.showModal();
    dialog.querySelector("[data-switcher-query]").focus();
  }

  document.addEventListener("huddle:switcher", function () {
    var dialog = document.querySelector("[data-switcher]");
    if (!dialog) return;
    var sidebar = document.getElementById("sidebar");
    if (sidebar) {
      all = read(sidebar);
      open(dialog);
      return;
    }
    fetch(dialog.dataset.sidebarUrl, { credentials: "same-origin" }).then(function (response) {
      return response.ok ? response.text() : "";
    }).then(function (html) {
      all = read(new DOMParser().parseFromString(html, "text/html"));
      open(dialog);
    });
  });

  document.addEventListener("input", function (event) {
    var dialog = event.target instanceof Element && event.target.closest("[data-switcher]");
    if (dialog && event.target.matches("[data-switcher-query]")) show(dialog);
  });

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!(form instanceof Element) || !form.matches("[data-switcher-form]")) return;
    var first = matches(form.closest("[data-switcher]"))[0];
    if (!first) { event.preventDefault(); return; }
    window.location.href = first.href;
  });
})();

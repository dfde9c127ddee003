// Small menus opened by a real button: a message's "⋯" ([data-menu-root] holding a
// [data-menu-button] with aria-expanded and its [data-menu]), by click, tap or Enter/Space on the
// button. One menu is open at a time; a click elsewhere closes it, and Escape closes it with the
// focus back on its button (static/js/keys.js). Opening brings the menu into view (the last
// message's menu would open below the fold). "Copy link" copies the message's permalink and says
// so in a toast; without a clipboard it is the link it is.
(function () {
  "use strict";

  function close(root) {
    var button = root.querySelector("[data-menu-button]");
    var menu = root.querySelector("[data-menu]");
    if (menu) menu.hidden = true;
    if (button) button.setAttribute("aria-expanded", "false");
  }

  function closeAll(except) {
    document.querySelectorAll('[data-menu-root]:has([aria-expanded="true"])').forEach(function (root) {
      if (root !== except) close(root);
    });
  }

  document.addEventListener("click", function (event) {
    var target = event.target instanceof Element ? event.target : null;
    var button = target && target.closest("[data-menu-button]");
    var root = button && button.closest("[data-menu-root]");
    closeAll(root);
    if (!root) return;
    var menu = root.querySelector("[data-menu]");
    var open = button.getAttribute("aria-expanded") !== "true";
    button.setAttribute("aria-expanded", open ? "true" : "false");
    menu.hidden = !open;
    if (open) menu.scrollIntoView({ block: "nearest" });
  });

  // An action chosen in the menu closes it (the edit form or the confirmation takes over).
  document.addEventListener("click", function (event) {
    var item = event.target instanceof Element && event.target.closest("[data-menu] a");
    if (!item) return;
    var root = item.closest("[data-menu-root]");
    close(root);
    root.querySelector("[data-menu-button]").focus();  // not left on a hidden link
  });

  document.addEventListener("click", function (event) {
    var link = event.target instanceof Element && event.target.closest("[data-copy-link]");
    if (!link || !navigator.clipboard) return;
    event.preventDefault();
    navigator.clipboard.writeText(link.href).then(function () {
      document.dispatchEvent(new CustomEvent("huddle:toast", { detail: { message: "Link copied." } }));
    }, function () { window.location.href = link.href; });
  });
})();

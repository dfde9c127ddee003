// Files brought to the open conversation without the paperclip: dragged from the desktop and
// dropped anywhere on #conversation (which shows .drop-files while they hover it), or an image
// pasted into the composer's box (a screenshot). Either way they go to the composer's attach.js
// as `huddle:attach` (detail: {form, files}), exactly as picked files do. A drop anywhere else on
// the page is refused: the browser would otherwise leave the page, and what was typed, to show
// the file. Only a composer attach.js has made ready ([data-attach-ready]) and not turned off
// (an archived room) takes files.
(function () {
  "use strict";

  function attach(form, files) {
    document.dispatchEvent(new CustomEvent("huddle:attach", { detail: { form: form, files: files } }));
  }

  // A pasted image (a screenshot) is taken as a file; text copied with a picture of itself (from a
  // document or a spreadsheet) stays text.
  document.addEventListener("paste", function (event) {
    var form = event.target.closest && event.target.closest("[data-attach-ready]");
    var data = event.clipboardData;
    if (!form || !data || !data.files || !data.files.length) return;
    if (Array.prototype.indexOf.call(data.types || [], "text/plain") >= 0) return;
    event.preventDefault();
    attach(form, Array.prototype.slice.call(data.files));
  });

  // Files dragged over the page: dropped on the open conversation they attach; anywhere else the
  // drop is refused (the browser would otherwise leave the page, and what was typed, to show it).
  function carriesFiles(event) {
    return event.dataTransfer && Array.prototype.indexOf.call(event.dataTransfer.types || [], "Files") >= 0;
  }

  function formFor(event) {
    var pane = event.target.closest && event.target.closest("#conversation");
    var form = pane && pane.querySelector("[data-attach-ready]");
    return form && !form.querySelector("textarea").disabled ? form : null;
  }

  function over(event) {
    if (!carriesFiles(event)) return;
    event.preventDefault();
    var form = formFor(event);
    event.dataTransfer.dropEffect = form ? "copy" : "none";
    if (form) document.getElementById("conversation").classList.add("drop-files");
  }
  document.addEventListener("dragenter", over);
  document.addEventListener("dragover", over);

  function dragEnded(event) {
    var pane = document.getElementById("conversation");
    if (pane && (event.type !== "dragleave" || !pane.contains(event.relatedTarget))) pane.classList.remove("drop-files");
  }
  document.addEventListener("dragleave", dragEnded);

  document.addEventListener("drop", function (event) {
    if (!carriesFiles(event)) return;
    event.preventDefault();
    dragEnded(event);
    var form = formFor(event);
    if (!form) return;
    attach(form, Array.prototype.slice.call(event.dataTransfer.files));
    form.querySelector("textarea").focus();
  });
})();

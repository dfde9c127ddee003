// Files in the composer ([data-composer][data-attach-url]). The paperclip ([data-attach-button])
// opens the picker ([data-attach-input], several files); files dropped on the conversation or
// pasted into the box come the same way (drop.js: `huddle:attach`, detail {form, files}). Each file
// uploads at once, on its own, to the form's data-attach-url and shows as a chip in
// [data-attach-chips]: its name, its size, a progress bar while it goes, and a Remove button
// (which stops the upload, or forgets the stored file at the answer's remove_url). The answer gives
// the chip its data-attach-id; composer.js takes the ready chips at a send (`huddle:take-files`:
// their ids go with the text) and puts them back if the send is refused. A refusal of the file
// itself (413 too large, 422 not allowed, 429, the quota) is said on its chip; nothing typed is
// touched. Up to data-attach-limit files a message. Without a script the form posts its files
// itself (multipart): the script hides that plain field and shows the paperclip instead.
(function () {
  "use strict";

  var uploads = new WeakMap();  // chip -> its XMLHttpRequest while it goes

  function enhance(root) {
    var forms = root.matches && root.matches("[data-attach-url]") ? [root] : root.querySelectorAll("[data-attach-url]");
    Array.prototype.forEach.call(forms, function (form) {
      var button = form.querySelector("[data-attach-button]");
      var input = form.querySelector("[data-attach-input]");
      if (!button || !input || form.dataset.attachReady !== undefined) return;
      form.dataset.attachReady = "";
      input.removeAttribute("name");  // the files go by upload now, never inside the send
      input.disabled = false;  // the paperclip is what room.js turns off and on (an archived room)
      form.querySelector("[data-attach-plain]").hidden = true;
      button.hidden = false;
    });
  }

  function make(tag, className, text) {
    var el = document.createElement(tag);
    if (className) el.className = className;
    if (text) el.textContent = text;
    return el;
  }

  // Sizes as the server writes them (Jinja's filesizeformat): decimal units.
  function size(bytes) {
    if (bytes < 1000) return bytes === 1 ? "1 Byte" : bytes + " Bytes";
    var units = ["kB", "MB", "GB", "TB"], value = bytes / 1000, unit = 0;
    while (value >= 1000 && unit < units.length - 1) { value /= 1000; unit += 1; }
    return value.toFixed(1) + " " + units[unit];
  }

  function say(form, text) {
    var status = form.querySelector("[data-attach-status]");
    if (status) status.textContent = text;
  }

  // A chip: the file's name and size (or just a notice), an alert line for what went wrong, and
  // a button that removes it (named for the file to a screen reader).
  function chipFor(name, bytes, notice) {
    var chip = make("li", "attach-chip");
    chip.dataset.attachChip = "";
    var remove = make("button", "attach-remove");
    remove.type = "button";
    remove.dataset.attachRemove = "";
    var cross = make("span", "", "×");
    cross.setAttribute("aria-hidden", "true");
    remove.append(cross, make("span", "visually-hidden", notice ? "Dismiss" : "Remove " + name));
    var error = make("p", "attach-error field-error", notice);
    error.setAttribute("role", "alert");
    error.hidden = !notice;
    if (notice) {
      chip.dataset.attachFailed = "";
      chip.append(error, remove);
      return chip;
    }
    var bar = make("progress", "attach-progress");
    bar.max = 100;
    bar.value = 0;
    bar.setAttribute("aria-label", "Uploading " + name);
    chip.append(make("span", "attach-chip-name", name), make("span", "attach-chip-size", size(bytes)));
    chip.append(bar, remove, error);
    return chip;
  }

  function refuse(chip, message) {
    delete chip.dataset.uploading;
    chip.dataset.attachFailed = "";
    var bar = chip.querySelector("progress");
    if (bar) bar.remove();
    var error = chip.querySelector(".attach-error");
    error.textContent = message;
    error.hidden = false;
  }

  // What the server said: {"error": "…"}, {"error": {"message": "…"}} or {"errors": {field: "…"}}.
  function said(xhr) {
    try {
      var data = JSON.parse(xhr.responseText);
      var error = data.error || data;
      if (typeof error === "string") return error;
      if (error.message) return error.message;
      if (error.errors) return Object.keys(error.errors).map(function (k) { return error.errors[k]; }).join(" ");
    } catch (ignored) { /* not JSON: said by the status */ }
    if (xhr.status === 413) return "Too large to upload.";
    if (xhr.status === 429) return "Too many uploads just now: wait a moment and try again.";
    return "Not uploaded: " + (xhr.status ? "the server refused it." : "Huddle could not be reached.");
  }

  function upload(form, chip, file) {
    var xhr = new XMLHttpRequest();
    var bar = chip.querySelector("progress");
    var token = form.querySelector("input[name=csrf_token]");
    uploads.set(chip, xhr);
    chip.dataset.uploading = "";
    xhr.open("POST", form.dataset.attachUrl);
    xhr.setRequestHeader("Accept", "application/json");
    if (token) xhr.setRequestHeader("X-CSRF-Token", token.value);
    xhr.upload.addEventListener("progress", function (event) {
      if (event.lengthComputable) bar.value = Math.round(100 * event.loaded / event.total);
    });
    xhr.addEventListener("loadend", function () {
      uploads.delete(chip);
      if (chip.dataset.uploading === undefined) return;  // removed meanwhile
      var answer = null;
      try { answer = JSON.parse(xhr.responseText); } catch (ignored) { /* said below */ }
      answer = answer && (answer.data || answer);
      if (xhr.status < 200 || xhr.status >= 300 || !answer || answer.id === undefined) return refuse(chip, said(xhr));
      delete chip.dataset.uploading;
      chip.dataset.attachId = answer.id;
      if (answer.remove_url) chip.dataset.attachRemoveUrl = answer.remove_url;
      bar.value = 100;
      bar.remove();
      say(form, (file.name || "The pasted image") + " is ready to send.");
    });
    var body = new FormData();
    body.append("file", file, file.name || "pasted-image");
    xhr.send(body);
  }

  function add(form, files) {
    var list = form.querySelector("[data-attach-chips]");
    var area = form.querySelector("textarea");
    if (!list || !files.length || (area && area.disabled)) return;
    var limit = Number(form.dataset.attachLimit) || 10;
    var taken = list.querySelectorAll("[data-attach-chip]:not([data-attach-failed])").length;
    var left = Math.max(0, taken + files.length - limit);
    files.slice(0, files.length - left).forEach(function (file) {
      var chip = chipFor(file.name || "pasted image", file.size);
      list.append(chip);
      upload(form, chip, file);
    });
    var notice = "Up to " + limit + " files a message: " + left + (left === 1 ? " was" : " were") + " left out.";
    if (left) list.append(chipFor("", 0, notice));
  }

  function removeChip(chip) {
    var form = chip.closest("form");
    var xhr = uploads.get(chip);
    var url = chip.dataset.attachRemoveUrl;
    var token = form.querySelector("input[name=csrf_token]");
    delete chip.dataset.uploading;
    if (xhr) xhr.abort();
    if (url && token) {  // best effort: a file never sent is removed after a day anyway
      fetch(url, { method: "POST", headers: { "X-CSRF-Token": token.value, "Accept": "application/json" } })
        .catch(function () { /* the day's sweep removes it */ });
    }
    var next = chip.nextElementSibling || chip.previousElementSibling;
    var name = chip.querySelector(".attach-chip-name");
    chip.remove();
    say(form, name ? name.textContent + " removed." : "");
    ((next && next.querySelector("[data-attach-remove]")) || form.querySelector("textarea")).focus();
  }

  // composer.js sends: the ready files go with it (their chips leave the form), unless some are
  // still uploading (then nothing goes yet).
  document.addEventListener("huddle:take-files", function (event) {
    var list = event.detail.form.querySelector("[data-attach-chips]");
    if (!list) return;
    if (list.querySelector("[data-uploading]")) { event.detail.busy = true; return; }
    event.detail.chips = Array.prototype.slice.call(list.querySelectorAll("[data-attach-id]"));
    event.detail.ids = event.detail.chips.map(function (chip) { return chip.dataset.attachId; });
  });

  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("form [data-attach-button], form [data-attach-remove]");
    if (!button) return;
    if (button.matches("[data-attach-remove]")) return removeChip(button.closest("[data-attach-chip]"));
    button.closest("form").querySelector("[data-attach-input]").click();
  });

  document.addEventListener("change", function (event) {
    var form = event.target.matches("[data-attach-input]") && event.target.closest("[data-attach-ready]");
    if (!form) return;
    add(form, Array.prototype.slice.call(event.target.files));
    event.target.value = "";
  });

  // Files dropped on the conversation or pasted into the box (drop.js).
  document.addEventListener("huddle:attach", function (event) { add(event.detail.form, event.detail.files); });

  enhance(document);  // loaded deferred and render-blocking (the layout): the composer never changes after its first paint
  document.addEventListener("htmx:load", function (event) { enhance(event.detail.elt); });
})();

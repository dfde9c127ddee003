// Choosing a picture (templates/files/_avatar_form.html, [data-avatar-crop]): the chosen file shows
// at once with a square over it, the part that will be kept. The person drags the square to move
// it and its corner to resize it (or, focused, moves it with the arrow keys and resizes it with +
// and −, which keys.js hands over as huddle:crop-key); the square, in the image's own pixels, goes into the form's hidden x, y and size fields.
// The square is an SVG whose viewBox is the image's size, so its rectangles are those pixels as
// they are, with no style set from here. Without this script, or for a photo this browser cannot
// show (HEIC), the fields stay empty and the server keeps the middle square.
(function () {
  "use strict";

  var MIN = 16; // the smallest square, in image pixels (less would be mostly blur at 256 px)

  function parts(form) {
    return {
      frame: form.querySelector("[data-crop-frame]"), image: form.querySelector("[data-crop-image]"),
      svg: form.querySelector("[data-crop-square]"), box: form.querySelector("[data-crop-box]"),
      handle: form.querySelector("[data-crop-handle]"), shade: form.querySelector("[data-crop-shade]"),
      note: form.querySelector("[data-crop-note]"),
      x: form.querySelector("[data-crop-x]"), y: form.querySelector("[data-crop-y]"), size: form.querySelector("[data-crop-size]")
    };
  }

  function clear(p) {
    p.x.value = p.y.value = p.size.value = "";
    p.frame.hidden = true;
  }

  // Keep the square inside the image, then draw it and write it into the form.
  function place(form, x, y, size) {
    var p = parts(form), w = p.image.naturalWidth, h = p.image.naturalHeight;
    size = Math.round(Math.max(Math.min(MIN, w, h), Math.min(size, w, h)));
    x = Math.round(Math.max(0, Math.min(x, w - size)));
    y = Math.round(Math.max(0, Math.min(y, h - size)));
    var grip = Math.max(8, Math.round(Math.max(w, h) / 25));
    p.box.setAttribute("x", x); p.box.setAttribute("y", y);
    p.box.setAttribute("width", size); p.box.setAttribute("height", size);
    p.handle.setAttribute("x", x + size - grip); p.handle.setAttribute("y", y + size - grip);
    p.handle.setAttribute("width", grip); p.handle.setAttribute("height", grip);
    p.shade.setAttribute("d", "M0 0H" + w + "V" + h + "H0Z M" + x + " " + y + "h" + size + "v" + size + "h-" + size + "Z");
    p.x.value = x; p.y.value = y; p.size.value = size;
  }

  function square(form) {
    var p = parts(form);
    return { x: +p.x.value, y: +p.y.value, size: +p.size.value };
  }

  // The pointer's position in image pixels.
  function at(svg, event) {
    var rect = svg.getBoundingClientRect(), view = svg.viewBox.baseVal;
    return { x: (event.clientX - rect.left) * view.width / rect.width, y: (event.clientY - rect.top) * view.height / rect.height };
  }

  document.addEventListener("change", function (event) {
    var input = event.target;
    if (!input.matches || !input.matches("[data-crop-file]")) return;
    var form = input.closest("[data-avatar-crop]"), p = parts(form), file = input.files && input.files[0];
    clear(p);
    p.note.hidden = true;
    if (!file) return;
    // A data: URL (the page's policy allows images from data:, not blob:).
    var reader = new FileReader();
    reader.addEventListener("load", function () { p.image.src = reader.result; });
    reader.readAsDataURL(file);
  });

  // load and error do not bubble: heard on the way down.
  document.addEventListener("load", function (event) {
    if (!event.target.matches || !event.target.matches("[data-crop-image]")) return;
    var form = event.target.closest("[data-avatar-crop]"), p = parts(form);
    var w = p.image.naturalWidth, h = p.image.naturalHeight, size = Math.min(w, h);
    p.svg.setAttribute("viewBox", "0 0 " + w + " " + h);
    p.frame.hidden = false;
    place(form, (w - size) / 2, (h - size) / 2, size);
  }, true);

  document.addEventListener("error", function (event) {
    if (!event.target.matches || !event.target.matches("[data-crop-image]")) return;
    var p = parts(event.target.closest("[data-avatar-crop]"));
    clear(p);
    p.note.textContent = "This browser cannot show that file, so its middle square will be kept.";
    p.note.hidden = false;
  }, true);

  var drag = null; // { form, svg, mode: "move" | "resize", from: point, start: square }

  document.addEventListener("pointerdown", function (event) {
    var svg = event.target.closest && event.target.closest("[data-crop-square]");
    if (!svg || event.button !== 0) return;
    var form = svg.closest("[data-avatar-crop]"), start = square(form), point = at(svg, event);
    var mode = event.target.matches("[data-crop-handle]") ? "resize" : "move";
    if (mode === "move" && !(point.x >= start.x && point.x <= start.x + start.size &&
                             point.y >= start.y && point.y <= start.y + start.size)) {
      // Pressed outside the square: it jumps there, centred on the pointer, and follows it.
      place(form, point.x - start.size / 2, point.y - start.size / 2, start.size);
      start = square(form);
    }
    drag = { form: form, svg: svg, mode: mode, from: point, start: start };
    svg.setPointerCapture(event.pointerId);
    svg.focus();
    event.preventDefault();
  });

  document.addEventListener("pointermove", function (event) {
    if (!drag) return;
    var point = at(drag.svg, event), dx = point.x - drag.from.x, dy = point.y - drag.from.y, s = drag.start;
    if (drag.mode === "move") place(drag.form, s.x + dx, s.y + dy, s.size);
    else {
      // Resized from its corner: the opposite corner stays where it is.
      var image = parts(drag.form).image;
      place(drag.form, s.x, s.y, Math.min(s.size + Math.max(dx, dy), image.naturalWidth - s.x, image.naturalHeight - s.y));
    }
  });

  function stop() { drag = null; }
  document.addEventListener("pointerup", stop);
  document.addEventListener("pointercancel", stop);

  // Keys on the focused square, from the page's one keyboard handler (keys.js).
  document.addEventListener("huddle:crop-key", function (event) {
    var svg = event.detail.square, form = svg.closest("[data-avatar-crop]"), s = square(form);
    var step = Math.max(1, Math.round(svg.viewBox.baseVal.width / 50)) * (event.detail.big ? 5 : 1);
    var moves = { ArrowLeft: [-step, 0, 0], ArrowRight: [step, 0, 0], ArrowUp: [0, -step, 0], ArrowDown: [0, step, 0],
                  "+": [-step / 2, -step / 2, step], "=": [-step / 2, -step / 2, step],
                  "-": [step / 2, step / 2, -step], "−": [step / 2, step / 2, -step] };
    var move = moves[event.detail.key];
    if (move) place(form, s.x + move[0], s.y + move[1], s.size + move[2]);
  });
})();

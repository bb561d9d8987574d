// Progressive enhancement for the catalog's pages: every page works without this file.
// No inline scripts anywhere, so a Content-Security-Policy can forbid them.
(function () {
  "use strict";

  // Selects that apply themselves: <select data-autosubmit> (a submit button stays for no-JS).
  document.addEventListener("change", function (event) {
    if (event.target.matches("select[data-autosubmit], input[data-autosubmit-check]")) event.target.form.submit();
  });

  // Copy buttons: <button data-copy="text">.
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy]");
    if (!button) return;
    event.preventDefault();
    var text = button.getAttribute("data-copy");
    var done = function () {
      var label = button.textContent;
      button.textContent = "Copied";
      button.classList.add("copied");
      setTimeout(function () { button.textContent = label; button.classList.remove("copied"); }, 1200);
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(done, function () { fallbackCopy(text); done(); });
    } else {
      fallbackCopy(text);
      done();
    }
  });

  function fallbackCopy(text) {
    var area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.style.position = "fixed";
    area.style.opacity = "0";
    document.body.appendChild(area);
    area.select();
    try { document.execCommand("copy"); } catch (e) { /* nothing more to try */ }
    document.body.removeChild(area);
  }

  // The image viewer: a <dialog> with the larger image and its generation metadata; arrows move, Escape closes.
  var viewer = document.getElementById("viewer");
  if (!viewer || typeof viewer.showModal !== "function") return;
  var figures = Array.prototype.slice.call(document.querySelectorAll("figure[data-image]"));
  var current = -1;
  var FIELDS = [
    ["prompt", "Prompt"], ["negative", "Negative prompt"], ["sampler", "Sampler"], ["steps", "Steps"],
    ["cfg", "CFG scale"], ["seed", "Seed"], ["size", "Size"], ["model", "Model"]
  ];

  function show(index) {
    if (index < 0 || index >= figures.length) return;
    current = index;
    var data = figures[index].dataset;
    var img = viewer.querySelector("img");
    img.src = data.full;
    img.alt = data.alt || "";
    viewer.querySelector(".viewer-position").textContent = (index + 1) + " of " + figures.length;
    var list = viewer.querySelector("dl");
    list.textContent = "";
    FIELDS.forEach(function (field) {
      var value = data[field[0]];
      if (!value) return;
      var term = document.createElement("dt");
      term.textContent = field[1];
      var detail = document.createElement("dd");
      var text = document.createElement("span");
      text.className = "meta-" + field[0];
      text.textContent = value;
      var copy = document.createElement("button");
      copy.type = "button";
      copy.className = "copy";
      copy.setAttribute("data-copy", value);
      copy.setAttribute("aria-label", "Copy " + field[1].toLowerCase());
      copy.textContent = "Copy";
      detail.appendChild(text);
      detail.appendChild(copy);
      list.appendChild(term);
      list.appendChild(detail);
    });
    if (!list.childNodes.length) {
      var none = document.createElement("dd");
      none.textContent = "No generation metadata for this image.";
      list.appendChild(none);
    }
    var source = viewer.querySelector(".viewer-source");
    source.href = data.source;
    if (!viewer.open) viewer.showModal();
  }

  figures.forEach(function (figure, index) {
    var link = figure.querySelector("a");
    if (!link) return;
    link.addEventListener("click", function (event) {
      event.preventDefault();
      show(index);
    });
  });
  viewer.addEventListener("keydown", function (event) {
    if (event.key === "ArrowRight") { event.preventDefault(); show(Math.min(current + 1, figures.length - 1)); }
    if (event.key === "ArrowLeft") { event.preventDefault(); show(Math.max(current - 1, 0)); }
  });
  viewer.querySelector(".viewer-next").addEventListener("click", function () { show(current + 1); });
  viewer.querySelector(".viewer-prev").addEventListener("click", function () { show(current - 1); });
  viewer.querySelector(".viewer-close").addEventListener("click", function () { viewer.close(); });
  viewer.addEventListener("click", function (event) { if (event.target === viewer) viewer.close(); });
})();

// Blurhash placeholders: <canvas data-blurhash="..."> for images not mirrored yet (https://blurha.sh).
(function () {
  "use strict";
  var CHARS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz#$%*+,-.:;=?@[]^_{|}~";

  function decode83(text) {
    var value = 0;
    for (var i = 0; i < text.length; i++) {
      var digit = CHARS.indexOf(text[i]);
      if (digit < 0) throw new Error("not a blurhash");
      value = value * 83 + digit;
    }
    return value;
  }
  function toLinear(v) { v /= 255; return v <= 0.04045 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); }
  function toSRGB(v) {
    v = Math.max(0, Math.min(1, v));
    return Math.round((v <= 0.0031308 ? v * 12.92 : 1.055 * Math.pow(v, 1 / 2.4) - 0.055) * 255);
  }
  function signPow(v, e) { return (v < 0 ? -1 : 1) * Math.pow(Math.abs(v), e); }

  function draw(canvas, hash) {
    var size = decode83(hash[0]);
    var nx = (size % 9) + 1, ny = Math.floor(size / 9) + 1;
    if (hash.length !== 4 + 2 * nx * ny) throw new Error("bad blurhash length");
    var maximum = (decode83(hash[1]) + 1) / 166;
    var colors = [];
    var dc = decode83(hash.slice(2, 6));
    colors.push([toLinear(dc >> 16), toLinear((dc >> 8) & 255), toLinear(dc & 255)]);
    for (var i = 1; i < nx * ny; i++) {
      var ac = decode83(hash.slice(4 + i * 2, 6 + i * 2));
      colors.push([
        signPow((Math.floor(ac / 361) - 9) / 9, 2) * maximum,
        signPow(((Math.floor(ac / 19) % 19) - 9) / 9, 2) * maximum,
        signPow(((ac % 19) - 9) / 9, 2) * maximum
      ]);
    }
    var w = canvas.width, h = canvas.height;
    var context = canvas.getContext("2d");
    var image = context.createImageData(w, h);
    for (var y = 0; y < h; y++) {
      for (var x = 0; x < w; x++) {
        var r = 0, g = 0, b = 0;
        for (var j = 0; j < ny; j++) {
          for (var k = 0; k < nx; k++) {
            var basis = Math.cos((Math.PI * x * k) / w) * Math.cos((Math.PI * y * j) / h);
            var c = colors[k + j * nx];
            r += c[0] * basis; g += c[1] * basis; b += c[2] * basis;
          }
        }
        var p = 4 * (x + y * w);
        image.data[p] = toSRGB(r); image.data[p + 1] = toSRGB(g); image.data[p + 2] = toSRGB(b); image.data[p + 3] = 255;
      }
    }
    context.putImageData(image, 0, 0);
  }

  Array.prototype.forEach.call(document.querySelectorAll("canvas[data-blurhash]"), function (canvas) {
    try { draw(canvas, canvas.getAttribute("data-blurhash")); canvas.classList.add("drawn"); } catch (e) { /* placeholder stays */ }
  });
})();

// A source's thumbnail that does not load (the source is down, or the image was taken down) gives way to its
// placeholder underneath.
(function () {
  Array.prototype.forEach.call(document.querySelectorAll("img.remote"), function (img) {
    if (img.complete && img.naturalWidth === 0) { img.remove(); return; }
    img.addEventListener("error", function () { img.remove(); });
  });
})();

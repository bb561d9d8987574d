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

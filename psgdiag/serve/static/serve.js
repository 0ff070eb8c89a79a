// psgdiag serve: copy buttons and the file drop zone. The page works without this file; it
// only adds what needs a script. No network access: everything stays in the page.
"use strict";

(function () {
  function sourceText(id) {
    var el = document.getElementById(id);
    if (!el) return "";
    return el.tagName === "TEXTAREA" ? el.value : el.textContent;
  }

  function announce(text) {
    var status = document.getElementById("copy-status");
    if (status) status.textContent = text;
  }

  function copyWithSelection(id, text) {
    // Fallback for browsers without the asynchronous clipboard (or a page not served over a
    // secure origin): select a temporary textarea and ask for a copy.
    var area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.className = "visually-hidden";
    document.body.appendChild(area);
    area.select();
    var done = false;
    try {
      done = document.execCommand("copy");
    } catch (e) {
      done = false;
    }
    document.body.removeChild(area);
    return done;
  }

  function copy(button) {
    var id = button.getAttribute("data-copy");
    var text = sourceText(id);
    var label = button.textContent;
    function shown(ok) {
      button.textContent = ok ? "Copied" : "Copy failed: select the text instead";
      announce(ok ? "Copied to the clipboard." : "Could not copy; select the text instead.");
      window.setTimeout(function () { button.textContent = label; }, 2000);
    }
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(text).then(
        function () { shown(true); },
        function () { shown(copyWithSelection(id, text)); }
      );
    } else {
      shown(copyWithSelection(id, text));
    }
  }

  function listFiles(input, list) {
    var names = [];
    for (var i = 0; i < input.files.length; i++) names.push(input.files[i].name);
    list.textContent = names.length ? "Added: " + names.join(", ") : "";
  }

  function setUpDrop() {
    var zone = document.getElementById("drop-zone");
    var input = document.getElementById("files");
    var list = document.getElementById("file-list");
    if (!zone || !input || !list) return;
    input.addEventListener("change", function () { listFiles(input, list); });
    ["dragenter", "dragover"].forEach(function (name) {
      zone.addEventListener(name, function (event) {
        event.preventDefault();
        zone.classList.add("dragging");
      });
    });
    ["dragleave", "drop"].forEach(function (name) {
      zone.addEventListener(name, function () { zone.classList.remove("dragging"); });
    });
    zone.addEventListener("drop", function (event) {
      event.preventDefault();
      if (event.dataTransfer && event.dataTransfer.files.length) {
        input.files = event.dataTransfer.files;
        listFiles(input, list);
      }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var buttons = document.querySelectorAll("button[data-copy]");
    for (var i = 0; i < buttons.length; i++) {
      buttons[i].hidden = false;
      buttons[i].addEventListener("click", function (event) { copy(event.currentTarget); });
    }
    setUpDrop();
    var result = document.getElementById("result");
    if (result) result.focus();
  });
})();

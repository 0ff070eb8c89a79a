// psgdiag triage -f html: sort, filter, search and expand the ticket list. Inlined into the
// report (its hash is in the report's Content-Security-Policy); no network access. Without
// scripts the list is a plain table with every ticket's card shown under its row.
"use strict";

(function () {
  var table = document.getElementById("ticket-list");
  if (!table) return;
  var groups = Array.prototype.slice.call(table.querySelectorAll("tbody.ticket-group"));
  var tools = document.getElementById("ticket-tools");
  var search = document.getElementById("ticket-search");
  var filters = Array.prototype.slice.call(document.querySelectorAll("select.ticket-filter"));
  var count = document.getElementById("ticket-count");

  // ---------------------------------------------------------------- expand
  groups.forEach(function (group) {
    var cardRow = group.querySelector("tr.card-row");
    var cell = group.querySelector("tr.ticket th");
    if (!cardRow || !cell) return;
    cardRow.hidden = true;
    var button = document.createElement("button");
    button.type = "button";
    button.className = "expand";
    button.setAttribute("aria-expanded", "false");
    button.setAttribute("aria-controls", cardRow.id);
    button.title = "Show the full card";
    button.textContent = "\u25B8";
    button.addEventListener("click", function () {
      var open = button.getAttribute("aria-expanded") !== "true";
      button.setAttribute("aria-expanded", open ? "true" : "false");
      button.textContent = open ? "\u25BE" : "\u25B8";
      cardRow.hidden = !open;
    });
    cell.insertBefore(button, cell.firstChild);
  });

  // ---------------------------------------------------------------- sort
  function valueOf(group, column) {
    var cells = group.querySelector("tr.ticket").children;
    var cell = cells[column];
    return cell ? cell.getAttribute("data-value") || "" : "";
  }

  function compare(kind, a, b) {
    if (a === "" || b === "") return a === b ? 0 : a === "" ? 1 : -1; // empty always last
    if (kind === "number") return parseFloat(a) - parseFloat(b);
    if (kind === "date") return a < b ? -1 : a > b ? 1 : 0; // ISO 8601, UTC
    return a.localeCompare(b, undefined, { numeric: true, sensitivity: "base" });
  }

  var headers = Array.prototype.slice.call(table.querySelectorAll("thead th[data-sort]"));
  headers.forEach(function (th) {
    var column = th.cellIndex;
    var label = th.textContent;
    var button = document.createElement("button");
    button.type = "button";
    button.className = "sort";
    button.textContent = label;
    th.textContent = "";
    th.appendChild(button);
    button.addEventListener("click", function () {
      var ascending = th.getAttribute("aria-sort") !== "ascending";
      headers.forEach(function (other) {
        other.setAttribute("aria-sort", "none");
      });
      th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
      var kind = th.getAttribute("data-sort");
      var order = groups.map(function (group, index) {
        return { group: group, value: valueOf(group, column), index: index };
      });
      order.sort(function (x, y) {
        var empty = (x.value === "") - (y.value === "");
        if (empty) return empty; // tickets without a value stay last either way
        var c = compare(kind, x.value, y.value);
        if (!ascending) c = -c;
        return c || x.index - y.index;
      });
      order.forEach(function (item) {
        table.appendChild(item.group);
      });
      groups = order.map(function (item) {
        return item.group;
      });
    });
  });

  // ---------------------------------------------------------------- filter and search
  function apply() {
    var words = search.value.toLowerCase().split(/\s+/).filter(Boolean);
    var shown = 0;
    groups.forEach(function (group) {
      var ok = filters.every(function (select) {
        var want = select.value;
        var have = group.getAttribute("data-" + select.getAttribute("data-key")) || "";
        return want === "" || (want === "\u2205" ? have === "" : have === want);
      });
      if (ok && words.length) {
        var text = group.textContent.toLowerCase();
        ok = words.every(function (word) {
          return text.indexOf(word) !== -1;
        });
      }
      group.hidden = !ok;
      if (ok) shown += 1;
    });
    count.textContent = "Showing " + shown + " of " + groups.length + " tickets";
  }

  filters.forEach(function (select) {
    select.addEventListener("change", apply);
  });
  search.addEventListener("input", apply);
  tools.hidden = false;
  apply();
})();

// backfire view: a little vanilla JS. In the static bundle (opened from disk, no server) it applies the list's
// filters and sort from the URL; on every page it sorts tables by a header click and fills the compare frames.
(function () {
  "use strict";
  var isStatic = document.body.getAttribute("data-static") === "1";
  var params = new URLSearchParams(window.location.search);

  function matches(row, name, value) {
    if (!value) return true;
    if (name === "status") {
      var column = value === "any" ? "n_failed" : value === "failed" ? "n_error" : "n_" + value;
      return Number(row.getAttribute("data-" + column) || 0) > 0;
    }
    if (name === "aligned_share") return Math.abs(Number(row.getAttribute("data-aligned_share")) - Number(value)) < 1e-9;
    return (row.getAttribute("data-" + name) || "") === value;
  }

  function filterRows(table, names) {
    var shown = 0;
    table.querySelectorAll("tbody tr, tr[data-language]").forEach(function (row) {
      var keep = names.every(function (name) { return matches(row, name, params.get(name)); });
      row.style.display = keep ? "" : "none";
      if (keep) shown += 1;
    });
    var count = document.getElementById("shown-count");
    if (count) count.textContent = shown + " shown";
  }

  function sortBy(table, column, descending) {
    var index = Array.prototype.indexOf.call(table.querySelectorAll("thead th"),
      table.querySelector('thead th[data-sort="' + column + '"]'));
    if (index < 0) return;
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var x = a.cells[index].getAttribute("data-value"), y = b.cells[index].getAttribute("data-value");
      if (x === "" && y !== "") return 1;
      if (y === "" && x !== "") return -1;
      var nx = Number(x), ny = Number(y);
      var order = (!isNaN(nx) && !isNaN(ny)) ? nx - ny : String(x).localeCompare(String(y));
      return descending ? -order : order;
    });
    rows.forEach(function (row) { body.appendChild(row); });
  }

  var runs = document.getElementById("runs");
  if (runs && isStatic) {
    filterRows(runs, ["study", "language", "model", "aligned_share", "individuation", "evaluation_date", "synthetic", "status"]);
    if (params.get("sort")) sortBy(runs, params.get("sort"), params.get("order") !== "asc");
  }
  var dissociation = document.getElementById("dissociation");
  if (dissociation && isStatic) filterRows(dissociation, ["language", "aligned_share", "aligned", "direction"]);

  var compare = document.getElementById("compare-form");
  if (compare) {
    var pattern = compare.getAttribute("data-run-url");
    ["a", "b"].forEach(function (side) {
      var id = params.get(side);
      var frame = document.getElementById("frame-" + side);
      var select = compare.querySelector('select[name="' + side + '"]');
      if (id && select) select.value = id;
      if (id && frame && !frame.getAttribute("src")) frame.setAttribute("src", pattern.replace("{id}", id));
    });
  }
})();

// Progressive enhancement only: every page works without this file.
(function () {
  "use strict";

  // Offer countdowns: "<n> min kvar", refreshed every 20 s (not announced to screen readers on each tick).
  function tick() {
    document.querySelectorAll("[data-countdown]").forEach(function (el) {
      var left = Math.max(0, Math.floor((Date.parse(el.dataset.countdown) - Date.now()) / 60000));
      el.textContent = el.dataset.template.replace("{m}", String(left));
    });
  }

  // Child rows: show the first row and the rows already filled in; "Add a child" reveals the next one.
  function children() {
    var rows = Array.prototype.slice.call(document.querySelectorAll("[data-child-row]"));
    var button = document.getElementById("add-child");
    if (!rows.length || !button) return;
    rows.forEach(function (row, i) {
      var age = row.querySelector("input[type=number]");
      if (i > 0 && age && age.value === "") row.hidden = true;
    });
    function update() {
      button.hidden = !rows.some(function (row) { return row.hidden; });
    }
    button.addEventListener("click", function () {
      var next = rows.find(function (row) { return row.hidden; });
      if (next) {
        next.hidden = false;
        next.querySelector("select, input").focus();
      }
      update();
    });
    update();
  }

  // Name rows (threat areas, counties...): show the rows already filled in and one more on request.
  function nameRows() {
    document.querySelectorAll("[data-rows]").forEach(function (group) {
      var rows = Array.prototype.slice.call(group.querySelectorAll("[data-row]"));
      var button = group.querySelector("[data-add-row]");
      rows.forEach(function (row, i) {
        var input = row.querySelector("input");
        if (i > 0 && input.value === "" && !input.hasAttribute("aria-invalid")) row.hidden = true;
      });
      function update() { button.hidden = !rows.some(function (row) { return row.hidden; }); }
      button.addEventListener("click", function () {
        var next = rows.find(function (row) { return row.hidden; });
        if (next) { next.hidden = false; next.querySelector("input").focus(); }
        update();
      });
      update();
    });
  }

  // After a refused form, move focus to the list of errors.
  function errors() {
    var box = document.getElementById("form-errors");
    if (box) box.focus();
  }

  document.addEventListener("DOMContentLoaded", function () {
    tick();
    setInterval(tick, 20000);
    children();
    nameRows();
    errors();
  });
})();

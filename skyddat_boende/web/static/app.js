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

  // Alerts for offers about to expire: shown once fewer than data-soon-minutes are left.
  function soon() {
    document.querySelectorAll("[data-soon]").forEach(function (el) {
      var left = (Date.parse(el.dataset.soon) - Date.now()) / 60000;
      if (left <= Number(el.dataset.soonMinutes)) el.hidden = false;
    });
  }

  // Live pages: ask every few seconds whether anything changed; if so, fetch the page and swap its live part.
  function live() {
    var region = document.querySelector("[data-live-url]");
    if (!region || !window.fetch || !window.DOMParser) return;
    function refresh() {
      return fetch(location.pathname, { credentials: "same-origin" }).then(function (r) {
        return r.ok ? r.text() : null;
      }).then(function (html) {
        if (!html) return;
        var fresh = new DOMParser().parseFromString(html, "text/html").querySelector("[data-live-url]");
        if (!fresh) return;
        region.innerHTML = fresh.innerHTML;
        region.dataset.liveState = fresh.dataset.liveState;
        tick();
        soon();
      });
    }
    function poll() {
      fetch(region.dataset.liveUrl, { credentials: "same-origin", headers: { Accept: "text/plain" } })
        .then(function (r) { return r.ok ? r.text() : null; })
        .then(function (state) { if (state !== null && state !== region.dataset.liveState) return refresh(); })
        .catch(function () { /* offline for a moment: the next poll tries again */ });
    }
    setInterval(poll, (Number(region.dataset.livePoll) || 10) * 1000);
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
    soon();
    setInterval(function () { tick(); soon(); }, 20000);
    live();
    children();
    nameRows();
    errors();
  });
})();

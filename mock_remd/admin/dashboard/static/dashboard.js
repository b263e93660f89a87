/* mock-remd dashboard: live updates by polling the /_admin/ui fragments (no libraries). */
(function () {
  "use strict";
  var INTERVAL = 2000;

  function poll(url, apply) {
    var busy = false;
    function tick() {
      if (busy || document.hidden) { return; }
      busy = true;
      fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (data) { if (data) { apply(data); } })
        .catch(function () {})
        .then(function () { busy = false; });
    }
    setInterval(tick, INTERVAL);
  }

  function replaceIfChanged(el, html) {
    if (el && el.innerHTML !== html) {
      // keep keyboard focus on the same link when rows are redrawn
      var active = document.activeElement;
      var href = active && el.contains(active) ? active.getAttribute("href") : null;
      el.innerHTML = html;
      if (href) {
        var again = el.querySelector('a[href="' + href.replace(/"/g, '\\"') + '"]');
        if (again) { again.focus(); }
      }
    }
  }

  function timeline() {
    var box = document.getElementById("timeline");
    if (!box) { return; }
    var rows = document.getElementById("timeline-rows");
    var pager = document.getElementById("pager");
    poll(box.getAttribute("data-poll"), function (data) {
      var tmp = document.createElement("tbody");
      tmp.innerHTML = data.rows;
      replaceIfChanged(rows, tmp.innerHTML);
      var tp = document.createElement("div");
      tp.innerHTML = data.pager;
      replaceIfChanged(pager, tp.innerHTML);
    });
  }

  function documentPage() {
    var box = document.getElementById("document");
    if (!box) { return; }
    var status = box.getAttribute("data-status");
    var attempts = box.getAttribute("data-attempts");
    var live = document.getElementById("callbacks-live");
    poll(box.getAttribute("data-poll"), function (data) {
      if ((data.status || "") !== status || String(data.attempts) !== attempts) {
        window.location.reload();
        return;
      }
      var tmp = document.createElement("div");
      tmp.innerHTML = data.callbacks;
      replaceIfChanged(live, tmp.innerHTML);
    });
  }

  function filePickers() {
    // a chosen file's name next to our own "choose a file" button (the native control is hidden)
    Array.prototype.forEach.call(document.querySelectorAll(".file-pick"), function (label) {
      var input = label.querySelector("input[type=file]");
      var name = label.querySelector(".file-name");
      if (!input || !name) { return; }
      input.addEventListener("change", function () {
        name.textContent = input.files && input.files.length ? input.files[0].name : name.getAttribute("data-none");
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    filePickers();
    timeline();
    documentPage();
  });
})();

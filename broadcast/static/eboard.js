// The commune e-board: fetch the board's JSON, draw it, and keep the last good answer in localStorage so the
// display goes on showing it (and says since when) while the link is down or after a restart without one.
(function () {
  "use strict";
  var body = document.body;
  var url = body.dataset.url;
  var key = "eboard:" + body.dataset.code;
  var refreshMs = (parseInt(body.dataset.refresh, 10) || 15) * 1000;

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  function clock(iso) {
    var match = /T(\d\d:\d\d)/.exec(iso || "");
    return match ? match[1] : "";
  }

  function bulletin(entry, heading) {
    var box = el("article", "eboard-bulletin eboard-class-" + (entry.item_class || "normal"));
    if (heading) box.appendChild(el("h2", null, heading));
    box.appendChild(el("p", "eboard-time", clock(entry.start) + "–" + clock(entry.end)));
    box.appendChild(el("h3", "eboard-title", entry.title));
    if (entry.text) box.appendChild(el("p", "eboard-text", entry.text));
    return box;
  }

  function draw(board) {
    var warnings = document.getElementById("eboard-warnings");
    warnings.replaceChildren();
    (board.warnings || []).forEach(function (warning) {
      var box = el("article", "eboard-warning eboard-risk-" + warning.risk_level);
      box.appendChild(el("p", "eboard-level", body.dataset.labelLevel + " " + warning.risk_level));
      box.appendChild(el("h2", "eboard-title", warning.title));
      if (warning.text) box.appendChild(el("p", "eboard-text", warning.text));
      warnings.appendChild(box);
    });
    var current = document.getElementById("eboard-current");
    current.replaceChildren();
    if (board.current) {
      current.appendChild(bulletin(board.current, body.dataset.labelNow));
    } else {
      current.appendChild(el("h2", null, body.dataset.labelNow));
      current.appendChild(el("p", "eboard-empty", body.dataset.labelNone));
    }
    var upcoming = document.getElementById("eboard-next");
    upcoming.replaceChildren();
    if ((board.next || []).length) {
      upcoming.appendChild(el("h2", null, body.dataset.labelNext));
      board.next.forEach(function (entry) { upcoming.appendChild(bulletin(entry)); });
    }
  }

  function status(offlineSince) {
    var footer = document.getElementById("eboard-status");
    footer.hidden = !offlineSince;
    footer.textContent = offlineSince ? body.dataset.labelOffline + " " + offlineSince : "";
    body.classList.toggle("eboard-offline", Boolean(offlineSince));
  }

  function cached() {
    try {
      return JSON.parse(window.localStorage.getItem(key) || "null");
    } catch (error) {
      return null;
    }
  }

  function fromCache() {
    var last = cached();
    if (last && last.board) {
      draw(last.board);
      status(last.board.generated_at.replace("T", " ").slice(0, 16));
    }
  }

  function refresh() {
    fetch(url, {cache: "no-store", headers: {Accept: "application/json"}})
      .then(function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.json();
      })
      .then(function (board) {
        if (!board || board.format !== "commune-radio.eboard") throw new Error("not a board");
        draw(board);
        status(null);
        try {
          window.localStorage.setItem(key, JSON.stringify({board: board}));
        } catch (error) { /* a full or disabled storage only loses the offline copy */ }
      })
      .catch(fromCache);
  }

  function tick() {
    var now = new Date();
    document.getElementById("eboard-clock").textContent = now.toLocaleString(document.documentElement.lang, {
      weekday: "long", day: "2-digit", month: "2-digit", year: "numeric", hour: "2-digit", minute: "2-digit"});
  }

  fromCache();
  refresh();
  tick();
  window.setInterval(refresh, refreshMs);
  window.setInterval(tick, 15000);
}());

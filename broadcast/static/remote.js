// The station page's remote control: while a command waits for the station or has been fetched but not yet
// answered, the list of recent commands is fetched again every few seconds (a server-rendered fragment), so the
// operator sees it become done, failed or expired without reloading. Without JavaScript the page shows the state
// as it was when loaded.
(function () {
  "use strict";
  var EVERY_MS = 3000;

  function list() { return document.getElementById("command-list"); }

  function refresh() {
    var current = list();
    if (!current || !current.dataset.live) return;
    fetch(current.dataset.src, {credentials: "same-origin", headers: {"Accept": "text/html"}})
      .then(function (answer) { return answer.ok ? answer.text() : null; })
      .then(function (html) {
        if (html === null) return;
        var holder = document.createElement("div");
        holder.innerHTML = html;
        var fresh = holder.querySelector("#command-list");
        if (fresh) current.replaceWith(fresh);
      })
      .catch(function () { /* offline for a moment: try again at the next tick */ })
      .finally(function () { schedule(); });
  }

  function schedule() {
    var current = list();
    if (current && current.dataset.live) window.setTimeout(refresh, EVERY_MS);
  }

  schedule();
})();

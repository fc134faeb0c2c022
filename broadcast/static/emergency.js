// The emergency pages, enhanced (each works without this file):
// - the area tree gets a search field: typing part of a name (with or without tone marks) shows only the areas
//   that match and what lies above them, unfolded; the placement page's place.js does the ticking and loading;
// - a broadcast's page re-fetches its live part (state, stations) every few seconds while the broadcast is open,
//   and stops once it is closed (cancelled, rejected, expired). When its state changes (approved, cancelled by
//   someone else) the whole page reloads, so the actions match, unless a reason is being typed.
(function () {
  "use strict";

  var EVERY_MS = 5000;

  // "Hà Giang" and "ha giang" alike: no tone marks, đ as d, lower case.
  function plain(text) {
    return text.normalize("NFD").replace(/[\u0300-\u036f]/g, "").replace(/đ/g, "d").replace(/Đ/g, "D")
      .toLowerCase().trim();
  }

  function nameOf(li) {
    var label = li.querySelector("label.choice span");
    var own = label ? label.firstChild : null;  // the name, before its counts
    return plain(own && own.nodeType === 3 ? own.nodeValue : (label ? label.textContent : ""));
  }

  function setUpSearch(holder) {
    var tree = document.querySelector("[data-target-tree]");
    var input = holder.querySelector("input[type=search]");
    var result = holder.querySelector("[data-tree-search-result]");
    if (!tree || !input) { return; }
    holder.hidden = false;
    var opened = [];  // what the search unfolded, folded again when the search is cleared

    function filter() {
      var wanted = plain(input.value);
      var nodes = Array.prototype.slice.call(tree.querySelectorAll("li[data-node]"));
      opened.forEach(function (details) { details.open = false; });
      opened = [];
      if (!wanted) {
        nodes.forEach(function (li) { li.hidden = false; });
        result.textContent = "";
        return;
      }
      var shown = 0;
      nodes.forEach(function (li) { li.hidden = true; });
      nodes.forEach(function (li) {
        if (nameOf(li).indexOf(wanted) === -1) { return; }
        shown += 1;
        li.hidden = false;
        li.querySelectorAll("li[data-node]").forEach(function (below) { below.hidden = false; });
        for (var up = li.parentElement.closest("li[data-node]"); up; up = up.parentElement.closest("li[data-node]")) {
          up.hidden = false;
          var details = up.querySelector(":scope > details");
          if (details && !details.open) { details.open = true; opened.push(details); }
        }
      });
      result.textContent = shown ? "" : input.dataset.none;
    }

    input.addEventListener("input", filter);
    // Enter in the search field finds, it does not send the form.
    input.addEventListener("keydown", function (event) {
      if (event.key === "Enter") { event.preventDefault(); filter(); }
    });
  }

  function setUpRefresh(live) {
    var note = live.querySelector("[data-refresh-note]");
    if (note) { note.hidden = false; }
    var timer = window.setInterval(refresh, EVERY_MS), updatedAt = clock();

    function clock() {
      var now = new Date();
      return [now.getHours(), now.getMinutes(), now.getSeconds()].map(function (n) {
        return (n < 10 ? "0" : "") + n;
      }).join(":");
    }

    // Unreachable (no network, the server restarting, signed out): say since when the states shown are old,
    // instead of the note that promises fresh ones. The next good answer brings the usual note back.
    function stale() {
      var shown = live.querySelector("[data-refresh-note]");
      if (!shown || !shown.dataset.offline) { return; }
      shown.textContent = shown.dataset.offline.replace("TIME", updatedAt);
      shown.classList.add("error");
      shown.classList.remove("muted");
    }

    function typing() {
      var reason = document.getElementById("reason");
      return reason && reason.value.trim() !== "";
    }

    // The resend button lies outside the live part: its count (and whether it is offered) follows the answers.
    function resendFollows(unanswered) {
      var button = document.querySelector("button[data-resend]");
      if (!button || unanswered === undefined) { return; }
      button.closest("form").hidden = unanswered === "0";
      button.textContent = button.dataset.resend.replace("__N__", unanswered);
    }

    function refresh() {
      if (document.hidden) { return; }  // a tab in the background waits; it refreshes when looked at again
      fetch(live.dataset.refresh, {credentials: "same-origin", redirect: "error", cache: "no-store",
                                   headers: {"Accept": "text/html"}})
        .then(function (answer) { return answer.ok ? answer.text() : Promise.reject(answer.status); })
        .then(function (html) {
          var fresh = new DOMParser().parseFromString(html, "text/html").getElementById("emergency-live");
          if (!fresh) { return; }
          if (fresh.dataset.state !== live.dataset.state && !typing()) {
            window.clearInterval(timer);
            window.location.reload();
            return;
          }
          live.replaceWith(fresh);
          live = fresh;
          updatedAt = clock();
          resendFollows(fresh.dataset.unanswered);
          if (fresh.dataset.open !== "1") { window.clearInterval(timer); }
          else {
            var shown = fresh.querySelector("[data-refresh-note]");
            if (shown) { shown.hidden = false; }
          }
        })
        .catch(stale);  // the next round tries again
    }
  }

  document.querySelectorAll("[data-tree-search]").forEach(setUpSearch);
  var live = document.getElementById("emergency-live");
  if (live && live.dataset.open === "1") { setUpRefresh(live); }
}());

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

  // A commune may have many approved bulletins: a search box narrows the list by title (the list works alone
  // without JavaScript). Options that do not match are hidden, and the first match is chosen.
  function searchable(select) {
    if (!select || select.options.length < 6) return;
    var box = document.createElement("input");
    box.type = "search";
    box.className = "remote-search";
    box.placeholder = select.dataset.searchLabel || "";
    box.setAttribute("aria-label", select.dataset.searchLabel || "");
    box.setAttribute("aria-controls", select.id);
    select.parentNode.insertBefore(box, select);
    function fold(text) {
      return text.normalize("NFD").replace(/[\u0300-\u036f]/g, "").replace(/đ/g, "d").replace(/Đ/g, "D")
        .toLowerCase();
    }
    box.addEventListener("input", function () {
      var wanted = fold(box.value.trim()), first = null;
      Array.prototype.forEach.call(select.options, function (option) {
        var match = !wanted || fold(option.textContent).indexOf(wanted) !== -1;
        option.hidden = !match;
        if (match && first === null) first = option;
      });
      if (first !== null) select.value = first.value;
    });
  }

  searchable(document.getElementById("item_id"));
  schedule();
})();

// The placement page, enhanced: a ticked area greys out (and shows ticked) everything under it, since it covers
// its whole subtree; a line sums up the choice ("3 xã, 12 đài"); and unfolding an area whose communes or stations
// were not sent loads them in place (GET /areas/<id>/children) instead of reloading the form. Without this file
// the "show" buttons reload the form with that area unfolded, and a ticked area still means its whole subtree.
(function () {
  "use strict";

  var tree = document.querySelector("[data-target-tree]");
  var summary = document.getElementById("place-summary");

  function ownBox(li) {
    return li.querySelector("input[name=targets]");  // the first box in a node is its own
  }

  // Nodes come in document order, so a node's parent is settled before the node itself.
  function refresh() {
    var communes = 0, stations = 0;
    tree.querySelectorAll("li[data-node]").forEach(function (li) {
      var box = ownBox(li), up = li.parentElement.closest("li[data-node]");
      var covered = !!up && ownBox(up).checked;
      if (covered && !box.disabled) {
        box.dataset.own = box.checked ? "1" : "";
        box.checked = true;
        box.disabled = true;  // not sent: the ticked area above already covers it
      } else if (!covered && box.disabled) {
        box.checked = box.dataset.own === "1";
        box.disabled = false;
      }
      li.classList.toggle("tree-covered", covered);
      if (box.checked && !covered) {
        communes += Number(li.dataset.communes) || 0;
        stations += Number(li.dataset.stations) || 0;
      }
    });
    if (summary) {
      summary.textContent = communes || stations
        ? summary.dataset.some.replace("{communes}", count(communes, "commune", "communes"))
            .replace("{stations}", count(stations, "station", "stations"))
        : summary.dataset.none;
      summary.hidden = false;
    }
  }

  // "1 xã", "3 đài": the page gives each wording in its language, singular and plural (the same in Vietnamese).
  function count(n, one, many) {
    return summary.dataset[n === 1 ? one : many].replace("{n}", String(n));
  }

  function load(button) {
    if (button.dataset.loading) { return; }
    button.dataset.loading = "1";
    // A redirect (to the login page, the session having ended) is a failure, not a fragment to insert.
    fetch(button.dataset.children, {credentials: "same-origin", redirect: "error", headers: {"Accept": "text/html"}})
      .then(function (answer) { return answer.ok ? answer.text() : Promise.reject(answer.status); })
      .then(function (html) {
        var holder = document.createElement("div");
        holder.innerHTML = html;  // rendered and escaped by the server, from the same origin
        button.replaceWith.apply(button, Array.prototype.slice.call(holder.childNodes));
        refresh();
      })
      .catch(function () {
        // Offline for a moment, or the session ended: do what the button does without this file.
        button.removeAttribute("data-children");
        button.click();
      });
  }

  if (tree) {
    tree.addEventListener("change", function (event) {
      if (event.target.name === "targets") { refresh(); }
    });
    tree.addEventListener("click", function (event) {
      var button = event.target.closest("button[data-children]");
      if (button) {
        event.preventDefault();
        load(button);
        return;
      }
      // Unfolding an area that was not sent loads it at once, without a second tap on "show". (A tap on the
      // box or its label ticks it and does not unfold.)
      var row = !event.target.closest("label") && event.target.closest("summary");
      var details = row && row.parentElement;
      var waiting = details && !details.open && details.querySelector(":scope > button[data-children]");
      if (waiting) { load(waiting); }
    });
    refresh();
    window.addEventListener("pageshow", refresh);  // the back button restores ticks without change events
  }

  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.dataset.confirm)) { event.preventDefault(); }
    });
  });
}());

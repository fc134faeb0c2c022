// A long list of communes, areas or stations, searchable: a search box above it narrows it as one types, with or
// without tone marks ("dong van" finds "Xã Đồng Văn"; in a select, a district's name keeps its communes).
// Progressive enhancement: without this file the list works as it is. A page marks the list up as
//   <select|ul|table data-searchable data-search-label="Tìm…" data-search-count="Tìm thấy: {n}" data-search-none="…">
// and includes this script. In a select the option shown is the first match whenever the chosen one is hidden, so
// typing and then sending the form sends what was found; a list hides its items, a table its body rows (matched
// on their first cell, the name, or the first data-search-cells cells).
(function () {
  "use strict";

  var SHORTEST = 8;  // a shorter list is read at a glance: no search box

  function fold(text) {
    return text.normalize("NFD").replace(/[\u0300-\u036f]/g, "").replace(/đ/g, "d").replace(/Đ/g, "D")
      .toLowerCase().replace(/\s+/g, " ");
  }

  function entries(list) {
    if (list.tagName === "SELECT") {
      return Array.prototype.map.call(list.options, function (option) {
        var group = option.parentNode.tagName === "OPTGROUP" ? option.parentNode.label : "";
        return {node: option, own: fold(option.textContent), group: fold(group)};
      });
    }
    var rows = list.tagName === "TABLE" ? list.querySelectorAll("tbody > tr") : list.children;
    var cells = Number(list.dataset.searchCells) || 1;  // a table is searched in its first cells (the names)
    return Array.prototype.map.call(rows, function (row) {
      var text = row.cells ? Array.prototype.slice.call(row.cells, 0, cells).map(function (cell) {
        return cell.textContent;
      }).join(" ") : row.textContent;
      return {node: row, own: fold(text), group: ""};
    });
  }

  function enhance(select) {
    var label = select.dataset.searchLabel || "";
    var box = document.createElement("input");
    box.type = "search";
    box.className = "select-search";
    box.placeholder = label;
    box.autocomplete = "off";
    box.setAttribute("aria-label", label);
    if (select.id) box.setAttribute("aria-controls", select.id);
    var count = document.createElement("p");
    count.className = "select-search-count muted";
    count.setAttribute("role", "status");
    count.hidden = true;
    var isSelect = select.tagName === "SELECT";
    var options = entries(select);
    if (options.length < SHORTEST) return;
    // A wide table scrolls in its own box: the search goes above that box.
    var anchor = select.parentNode.classList.contains("table-scroll") ? select.parentNode : select;
    anchor.parentNode.insertBefore(box, anchor);
    anchor.parentNode.insertBefore(count, anchor);

    box.addEventListener("input", function () {
      var wanted = fold(box.value.trim()), shown = 0, first = null;
      options.forEach(function (entry) {
        var match = !wanted || entry.own.indexOf(wanted) !== -1 || entry.group.indexOf(wanted) !== -1;
        entry.node.hidden = !match;
        if (match) {
          shown += 1;
          if (first === null) first = entry.node;
        }
      });
      if (isSelect) {
        Array.prototype.forEach.call(select.querySelectorAll("optgroup"), function (group) {
          group.hidden = !group.querySelector("option:not([hidden])");
        });
        var chosen = select.options[select.selectedIndex];
        if (first !== null && (!chosen || chosen.hidden)) {
          select.value = first.value;
          select.dispatchEvent(new Event("change", {bubbles: true}));
        }
      }
      count.hidden = !wanted;
      count.textContent = shown ? (select.dataset.searchCount || "{n}").replace("{n}", shown)
        : (select.dataset.searchNone || "0");
    });
  }

  Array.prototype.forEach.call(document.querySelectorAll("[data-searchable]"), enhance);
})();

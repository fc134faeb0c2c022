// A long list of communes, areas or stations, searchable: a search box above the select narrows its options as
// one types, with or without tone marks ("dong van" finds "Xã Đồng Văn"; a district's name keeps its communes).
// Progressive enhancement: without this file the select works as it is. Any page marks a select up as
//   <select data-searchable data-search-label="Tìm…" data-search-count="Tìm thấy {n}" data-search-none="…">
// and includes this script. The option shown is the first match whenever the chosen one is hidden, so typing and
// then sending the form sends what was found.
(function () {
  "use strict";

  function fold(text) {
    return text.normalize("NFD").replace(/[\u0300-\u036f]/g, "").replace(/đ/g, "d").replace(/Đ/g, "D")
      .toLowerCase().replace(/\s+/g, " ");
  }

  function enhance(select) {
    var label = select.dataset.searchLabel || "";
    var box = document.createElement("input");
    box.type = "search";
    box.className = "select-search";
    box.placeholder = label;
    box.autocomplete = "off";
    box.setAttribute("aria-label", label);
    box.setAttribute("aria-controls", select.id);
    var count = document.createElement("p");
    count.className = "select-search-count muted";
    count.setAttribute("role", "status");
    count.hidden = true;
    select.parentNode.insertBefore(box, select);
    select.parentNode.insertBefore(count, select.nextSibling);

    var options = Array.prototype.slice.call(select.options).map(function (option) {
      var group = option.parentNode.tagName === "OPTGROUP" ? option.parentNode.label : "";
      return {option: option, own: fold(option.textContent), group: fold(group)};
    });

    box.addEventListener("input", function () {
      var wanted = fold(box.value.trim()), shown = 0, first = null;
      options.forEach(function (entry) {
        var match = !wanted || entry.own.indexOf(wanted) !== -1 || entry.group.indexOf(wanted) !== -1;
        entry.option.hidden = !match;
        if (match) {
          shown += 1;
          if (first === null) first = entry.option;
        }
      });
      Array.prototype.forEach.call(select.querySelectorAll("optgroup"), function (group) {
        group.hidden = !group.querySelector("option:not([hidden])");
      });
      var chosen = select.options[select.selectedIndex];
      if (first !== null && (!chosen || chosen.hidden)) {
        select.value = first.value;
        select.dispatchEvent(new Event("change", {bubbles: true}));
      }
      count.hidden = !wanted;
      count.textContent = shown ? (select.dataset.searchCount || "{n}").replace("{n}", shown)
        : (select.dataset.searchNone || "0");
    });
  }

  Array.prototype.forEach.call(document.querySelectorAll("select[data-searchable]"), enhance);
})();

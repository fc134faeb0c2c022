// The timeline, enhanced: an item can be dragged to another place in its session. The drop submits the item's
// own "move" form (same endpoint and CSRF token as the up/down buttons) with the place it was dropped on.
// Without this file, or with the keyboard, the buttons do the same one place at a time.
(function () {
  "use strict";

  var dragged = null;

  function clearTargets(list) {
    list.querySelectorAll(".tl-target").forEach(function (el) { el.classList.remove("tl-target"); });
  }

  function submitMove(item, place) {
    var form = item.querySelector("form.tl-move");
    if (!form) { return; }
    var to = document.createElement("input");
    to.type = "hidden";
    to.name = "to";
    to.value = String(place);
    form.appendChild(to);
    form.submit();
  }

  document.querySelectorAll("ol.tl-items").forEach(function (list) {
    list.addEventListener("dragstart", function (event) {
      var item = event.target.closest && event.target.closest("li[draggable=true]");
      if (!item) { return; }
      dragged = item;
      item.classList.add("tl-dragging");
      event.dataTransfer.effectAllowed = "move";
      event.dataTransfer.setData("text/plain", item.dataset.place);
    });
    list.addEventListener("dragend", function () {
      if (dragged) { dragged.classList.remove("tl-dragging"); }
      dragged = null;
      clearTargets(list);
    });
    list.addEventListener("dragover", function (event) {
      var target = event.target.closest && event.target.closest("li[data-place]");
      if (!dragged || !target || target === dragged || !list.contains(dragged)) { return; }
      event.preventDefault();
      clearTargets(list);
      target.classList.add("tl-target");
    });
    list.addEventListener("drop", function (event) {
      var target = event.target.closest && event.target.closest("li[data-place]");
      if (!dragged || !target || target === dragged || !list.contains(dragged)) { return; }
      event.preventDefault();
      submitMove(dragged, target.dataset.place);
    });
  });
})();

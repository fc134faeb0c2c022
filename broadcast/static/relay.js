// The item page: the stream's address and the relay's length show only while "a live relay" is chosen as how
// the bulletin airs (items.js may change the choice when the language changes, so that is watched too).
(function () {
  "use strict";
  function start() {
    var panel = document.getElementById("item-relay"), relay = document.getElementById("content_source-stream");
    if (!panel || !relay) { return; }
    function update() { panel.hidden = !relay.checked; }
    document.querySelectorAll("input[name=content_source], #language").forEach(function (input) {
      input.addEventListener("change", update);
    });
    update();
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
})();

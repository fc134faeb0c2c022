// The item editor, enhanced: the reading and the duration estimate follow the text as it is typed, and the
// page reloads itself once the voice has read the item. Without this file both update on save and on reload.
(function () {
  "use strict";

  function clock(ms) {
    var total = Math.round(ms / 1000), hours = Math.floor(total / 3600), rest = total % 3600;
    var mm = Math.floor(rest / 60), ss = String(rest % 60).padStart(2, "0");
    return hours ? hours + ":" + String(mm).padStart(2, "0") + ":" + ss : mm + ":" + ss;
  }

  function liveReading(form) {
    var body = form.querySelector("#body"), estimate = document.getElementById("item-estimate"),
        reading = document.getElementById("item-reading"), token = form.querySelector("input[name=csrf_token]");
    if (!body || !estimate || !reading || !token || body.matches(":disabled")) { return; }
    var timer = null, asked = 0;
    function ask() {
      var text = body.value, number = ++asked;
      if (!text.trim()) { estimate.textContent = "—"; reading.textContent = "—"; return; }
      fetch(form.dataset.readingUrl, {
        method: "POST", credentials: "same-origin",
        headers: {"Content-Type": "application/json", "X-CSRFToken": token.value},
        body: JSON.stringify({text: text, rate: form.dataset.rate || "+0%"})
      }).then(function (answer) {
        return answer.ok ? answer.json() : null;
      }).then(function (result) {
        if (result && number === asked) {  // an older answer arriving late must not replace a newer one
          estimate.textContent = clock(result.estimated_duration_ms);
          reading.textContent = result.text || "—";
        }
      }).catch(function () { /* offline for a moment: the page still updates on save */ });
    }
    body.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(ask, 600);
    });
  }

  var edited = false;

  function waitForVoice(badge) {
    var tries = 0;
    function check() {
      // Five minutes at most; and never a reload over unsaved typing.
      if (++tries > 60 || edited) { return; }
      fetch(badge.dataset.renderWait, {credentials: "same-origin", headers: {"Accept": "application/json"}})
        .then(function (answer) { return answer.ok ? answer.json() : null; })
        .then(function (item) {
          if (item && item.render_state !== "pending") { window.location.reload(); } else { setTimeout(check, 5000); }
        })
        .catch(function () { setTimeout(check, 5000); });
    }
    setTimeout(check, 5000);
  }

  var form = document.querySelector("form.item-form[data-reading-url]");
  if (form) {
    liveReading(form);
    form.addEventListener("input", function () { edited = true; });
  }
  var badge = document.querySelector("[data-render-wait]");
  if (badge) { waitForVoice(badge); }
}());

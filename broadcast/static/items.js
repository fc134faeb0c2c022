// The item editor, enhanced: the reading and the duration estimate follow the text as it is typed, and the
// page reloads itself once the voice has read the item. Without this file both update on save and on reload.
(function () {
  "use strict";

  function clock(ms) {
    var total = Math.round(ms / 1000), hours = Math.floor(total / 3600), rest = total % 3600;
    var mm = Math.floor(rest / 60), ss = String(rest % 60).padStart(2, "0");
    return hours ? hours + ":" + String(mm).padStart(2, "0") + ":" + ss : mm + ":" + ss;
  }

  // The reading with what the rules left as symbols or Latin letters marked, as the server renders it.
  function showReading(reading, text, unread) {
    var edges = ".,;:!?…()[]\"'“”‘’«»", wanted = {};
    unread.forEach(function (term) { wanted[term] = true; });
    reading.textContent = "";
    if (!text) { reading.textContent = "—"; return; }
    text.split(/(\s+)/).forEach(function (token) {
      var start = 0, end = token.length;
      while (start < end && edges.indexOf(token[start]) >= 0) { start++; }
      while (end > start && edges.indexOf(token[end - 1]) >= 0) { end--; }
      var term = token.slice(start, end);
      if (!term || !wanted[term]) { reading.appendChild(document.createTextNode(token)); return; }
      var mark = document.createElement("mark");
      mark.className = "unread";
      mark.textContent = term;
      reading.appendChild(document.createTextNode(token.slice(0, start)));
      reading.appendChild(mark);
      reading.appendChild(document.createTextNode(token.slice(end)));
    });
  }

  // One "add to the lexicon" form per unread term, cloned from the page's own template of it.
  function showUnread(unread) {
    var box = document.getElementById("item-unread"), list = document.getElementById("unread-terms"),
        template = document.getElementById("unread-term-form");
    if (!box || !list) { return; }
    list.textContent = "";
    unread.forEach(function (term) {
      var item = document.createElement("li");
      if (template) {
        item.appendChild(template.content.cloneNode(true));
        item.querySelector("input[name=term]").value = term;
        item.querySelector("mark").textContent = term;
      } else {
        var mark = document.createElement("mark");
        mark.className = "unread";
        mark.textContent = term;
        item.appendChild(mark);
      }
      list.appendChild(item);
    });
    box.hidden = unread.length === 0;
  }

  function liveReading(form) {
    var body = form.querySelector("#body"), estimate = document.getElementById("item-estimate"),
        reading = document.getElementById("item-reading"), token = form.querySelector("input[name=csrf_token]");
    if (!body || !estimate || !reading || !token) { return null; }
    var timer = null, asked = 0;
    function ask() {
      var text = body.value, number = ++asked;
      if (!text.trim()) { estimate.textContent = "—"; reading.textContent = "—"; showUnread([]); return; }
      fetch(form.dataset.readingUrl, {
        method: "POST", credentials: "same-origin",
        headers: {"Content-Type": "application/json", "X-CSRFToken": token.value},
        body: JSON.stringify({text: text, rate: form.dataset.rate || "+0%"})
      }).then(function (answer) {
        return answer.ok ? answer.json() : null;
      }).then(function (result) {
        if (result && number === asked) {  // an older answer arriving late must not replace a newer one
          estimate.textContent = clock(result.estimated_duration_ms);
          showReading(reading, result.text || "", result.unread || []);
          showUnread(result.unread || []);
        }
      }).catch(function () { /* offline for a moment: the page still updates on save */ });
    }
    if (!body.matches(":disabled")) {
      body.addEventListener("input", function () {
        clearTimeout(timer);
        timer = setTimeout(ask, 600);
      });
    }
    return ask;
  }

  // "Add to the lexicon" without leaving the page (and losing unsaved typing): the lexicon API, then the reading
  // is asked again. Without this script the form posts to the page route, which saves and comes back.
  function lexiconForms(token, reread) {
    var list = document.getElementById("unread-terms");
    if (!list || !token) { return; }
    list.addEventListener("submit", function (event) {
      var form = event.target, term = form.querySelector("input[name=term]").value,
          spoken = form.querySelector("input[name=reading]").value;
      if (!form.dataset.lexiconUrl || !spoken.trim()) { return; }
      event.preventDefault();
      fetch(form.dataset.lexiconUrl.replace("TERM", encodeURIComponent(term)), {
        method: "PUT", credentials: "same-origin",
        headers: {"Content-Type": "application/json", "X-CSRFToken": token.value},
        body: JSON.stringify({reading: spoken})
      }).then(function (answer) {
        if (answer.ok && reread) { reread(); } else if (!answer.ok) { form.submit(); }
      }).catch(function () { form.submit(); });
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
    lexiconForms(form.querySelector("input[name=csrf_token]"), liveReading(form));
    form.addEventListener("input", function () { edited = true; });
  }
  var badge = document.querySelector("[data-render-wait]");
  if (badge) { waitForVoice(badge); }

  // How the bulletin airs follows the language: only Vietnamese has a voice, the others are recordings. On a new
  // item the recording's file field shows as soon as "recording" is chosen; a saved item switches on save.
  function followSource(fieldset) {
    var spoken = (fieldset.dataset.spokenLanguages || "vi").split(" "), language = document.getElementById("language"),
        speech = document.getElementById("content_source-speech"), recorded = document.getElementById("content_source-recording"),
        panel = document.getElementById("recording"), afterSave = document.getElementById("recording-after-save"),
        savedAsRecording = panel && !afterSave && document.querySelector("form.item-form:not(.upload-form)");
    if (!language || !speech || !recorded) { return; }
    function update() {
      var voiced = spoken.indexOf(language.value) >= 0;
      if (!voiced && speech.checked) { recorded.checked = true; }  // a relay chosen stays a relay
      speech.disabled = !voiced;
      if (afterSave) { afterSave.hidden = !recorded.checked; }
      if (panel && !savedAsRecording) { panel.hidden = !recorded.checked; }
    }
    language.addEventListener("change", update);
    speech.addEventListener("change", update);
    recorded.addEventListener("change", update);
    update();
  }
  var source = document.querySelector("fieldset.item-source");
  if (source && !source.matches(":disabled")) { followSource(source); }

  // A recording uploaded by upload.js: its duration and player replace the old ones without leaving the page.
  document.addEventListener("upload:done", function (event) {
    var answer = event.detail || {}, player = document.getElementById("recording-player"),
        length = document.getElementById("recording-duration"), state = document.getElementById("render-badge");
    if (!answer.audio_url || !length) { return; }
    length.textContent = answer.duration;
    length.parentNode.hidden = false;
    if (!player) {
      player = document.createElement("audio");
      player.id = "recording-player";
      player.controls = true;
      player.setAttribute("aria-label", length.parentNode.dataset.playerLabel || "");
      length.parentNode.insertAdjacentElement("afterend", player);
    }
    player.src = answer.audio_url;
    var heard = document.querySelector(".recorder-playback");  // the microphone's take, now sent: one player left
    if (heard) { heard.hidden = true; }
    if (state && answer.render) { state.textContent = answer.render; state.className = "badge render-ready"; }
  });
}());

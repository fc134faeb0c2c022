// The "speak now" page: the microphone to the stations of the chosen areas, live.
// 1. Start: ask for the microphone, open the announcement (POST /live; problems are shown at their fields),
// 2. open its WebSocket and send the recording in half-second WebM/Opus chunks (MediaRecorder); the server answers
//    {"state": "on_air"} once the stations are told, {"state": "ended", "reason": ...} at the end;
// 3. meanwhile: a level meter, the time elapsed and left, and the stations' state refreshed every two seconds;
// 4. Stop: "stop" on the socket (and POST /live/<id>/stop should the socket be gone).
// Closing the page ends the announcement too: the server sees the socket close and tells the stations to stop.
// On an announcement's own page (no form) only the stations' state is refreshed, until it has ended.
(function () {
  "use strict";

  var CHUNK_MS = 500;
  var REFRESH_MS = 2000;

  function refresher(holder, url, onState) {
    var timer = null;
    function tick() {
      fetch(url, {credentials: "same-origin", headers: {"Accept": "text/html"}, cache: "no-store"})
        .then(function (answer) {
          if (!answer.ok) { return Promise.reject(answer.status); }
          var state = answer.headers.get("X-Live-State");
          return answer.text().then(function (html) {
            holder.innerHTML = html;
            if (onState) { onState(state); }
            if (state === "ended") { stop(); }
          });
        })
        .catch(function () { /* the next tick tries again */ });
    }
    function stop() { if (timer) { clearInterval(timer); timer = null; } }
    tick();
    timer = setInterval(tick, REFRESH_MS);
    return {stop: stop, now: tick};
  }

  function clock(seconds) {
    seconds = Math.max(0, Math.floor(seconds));
    var s = seconds % 60;
    return Math.floor(seconds / 60) + ":" + (s < 10 ? "0" : "") + s;
  }

  // An announcement's own page: refresh its stations until it has ended.
  var own = document.querySelector("[data-live-status][data-refresh]");
  if (own) {
    var first = own.querySelector("[data-live-state]");
    if (!first || first.dataset.liveState !== "ended") { refresher(own, own.dataset.refresh); }
  }

  var form = document.querySelector("form[data-live]");
  if (!form) { return; }
  var statusBox = document.querySelector("[data-live-status]");
  var startButton = form.querySelector("[data-start]");
  var stopButton = form.querySelector("[data-stop]");
  var stateLine = form.querySelector("[data-state]");
  var meter = form.querySelector("[data-meter]");
  var elapsed = form.querySelector("[data-elapsed]");
  var leftWrap = form.querySelector("[data-left-wrap]");
  var left = form.querySelector("[data-left]");
  var reasons = JSON.parse(form.dataset.reasons || "{}");

  var live = null;  // {id, audio, status, stop, seconds}, once opened
  var socket = null, recorder = null, stream = null, audioContext = null, ticker = null, status = null;
  var startedAt = 0, ended = false;

  function say(text) { stateLine.textContent = text; }

  function showErrors(errors) {
    form.querySelectorAll("[data-error-for]").forEach(function (p) { p.hidden = true; p.textContent = ""; });
    var firstField = null;
    Object.keys(errors || {}).forEach(function (name) {
      var p = form.querySelector("[data-error-for='" + name + "']") || form.querySelector("[data-error-for=form]");
      p.textContent = errors[name];
      p.hidden = false;
      var field = form.querySelector("#" + name) || form.querySelector("input[name=targets]");
      if (!firstField && field) { firstField = field; }
    });
    if (firstField) { firstField.focus(); }
  }

  function setBusy(busy) {
    startButton.hidden = busy;
    stopButton.hidden = !busy;
    form.querySelectorAll("input, fieldset").forEach(function (el) { if (el.name !== "csrf_token") { el.disabled = busy; } });
  }

  function watchLevel() {
    var AudioContextClass = window.AudioContext || window.webkitAudioContext;
    if (!AudioContextClass) { return; }
    audioContext = new AudioContextClass();
    var analyser = audioContext.createAnalyser();
    analyser.fftSize = 1024;
    audioContext.createMediaStreamSource(stream).connect(analyser);
    var samples = new Float32Array(analyser.fftSize);
    (function draw() {
      if (!audioContext) { return; }
      analyser.getFloatTimeDomainData(samples);
      var sum = 0;
      for (var i = 0; i < samples.length; i += 1) { sum += samples[i] * samples[i]; }
      meter.value = Math.min(1, Math.sqrt(sum / samples.length) * 3);  // speech sits in the middle of the bar
      requestAnimationFrame(draw);
    })();
  }

  function tick() {
    var seconds = (Date.now() - startedAt) / 1000;
    elapsed.textContent = clock(seconds);
    if (live && live.seconds) {
      leftWrap.hidden = false;
      left.textContent = clock(live.seconds - seconds);
    }
  }

  function finish(message) {
    if (ended) { return; }
    ended = true;
    if (recorder && recorder.state !== "inactive") { recorder.stop(); }
    if (stream) { stream.getTracks().forEach(function (track) { track.stop(); }); }
    if (audioContext) { audioContext.close(); audioContext = null; }
    if (ticker) { clearInterval(ticker); }
    if (socket && socket.readyState <= 1) { socket.close(); }
    meter.value = 0;
    say(message);
    setBusy(false);
    startButton.disabled = false;
    var last = status;  // a new announcement may have its own refresher by the time this one's ends
    if (last) { last.now(); setTimeout(function () { last.stop(); }, 6 * REFRESH_MS); }
  }

  function openSocket() {
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    socket = new WebSocket(scheme + location.host + live.audio);
    socket.binaryType = "arraybuffer";
    socket.onopen = function () {
      say(form.dataset.connecting);
      var type = "audio/webm;codecs=opus";
      recorder = new MediaRecorder(stream, MediaRecorder.isTypeSupported(type) ? {mimeType: type, audioBitsPerSecond: 32000} : {});
      recorder.ondataavailable = function (event) {
        if (event.data && event.data.size && socket.readyState === 1) { socket.send(event.data); }
      };
      recorder.start(CHUNK_MS);
      startedAt = Date.now();
      ticker = setInterval(tick, 250);
    };
    socket.onmessage = function (event) {
      var message = {};
      try { message = JSON.parse(event.data); } catch (e) { return; }
      if (message.state === "on_air") {
        say(form.dataset.onAir);
        if (status) { status.now(); }
      } else if (message.state === "ended" || message.state === "refused") {
        var reason = reasons[message.reason || message.state] || reasons.unknown;
        finish(form.dataset.ended.replace("{reason}", reason));
      }
    };
    socket.onclose = function () { finish(form.dataset.lost); };
  }

  // Leaving the page ends the announcement: the browser asks first.
  window.addEventListener("beforeunload", function (event) {
    if (live && !ended) { event.preventDefault(); event.returnValue = ""; }
  });

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    if (live && !ended) { return; }
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia || !window.MediaRecorder || !window.WebSocket) {
      showErrors({form: form.dataset.noMic});
      return;
    }
    startButton.disabled = true;
    say(form.dataset.askMic);
    navigator.mediaDevices.getUserMedia({audio: {echoCancellation: true, noiseSuppression: true}})
      .then(function (got) {
        stream = got;
        say(form.dataset.opening);
        return fetch(form.action, {method: "POST", body: new FormData(form), credentials: "same-origin",
                                   headers: {"Accept": "application/json"}});
      }, function () { return Promise.reject({form: form.dataset.noMic}); })
      .then(function (answer) {
        return answer.json().then(function (body) { return answer.ok ? body : Promise.reject(body.errors || {}); });
      })
      .then(function (opened) {
        live = opened;
        ended = false;
        showErrors({});
        setBusy(true);
        watchLevel();
        status = refresher(statusBox, live.status);
        openSocket();
      })
      .catch(function (errors) {
        if (stream) { stream.getTracks().forEach(function (track) { track.stop(); }); stream = null; }
        showErrors(errors && typeof errors === "object" && Object.keys(errors).length ? errors : {form: form.dataset.failed});
        say("");
        startButton.disabled = false;
      });
  });

  stopButton.addEventListener("click", function () {
    stopButton.disabled = true;
    if (recorder && recorder.state !== "inactive") { recorder.stop(); }
    if (socket && socket.readyState === 1) {
      socket.send("stop");
    }
    // Should the socket be gone already, stop it through the page's own route.
    var token = form.querySelector("input[name=csrf_token]").value;
    var body = new FormData();
    body.append("csrf_token", token);
    setTimeout(function () {
      if (!ended) {
        fetch(live.stop, {method: "POST", body: body, credentials: "same-origin", headers: {"Accept": "application/json"}})
          .finally(function () { finish(form.dataset.ended.replace("{reason}", reasons.stopped)); });
      }
    }, 3000);
    stopButton.disabled = false;
  });
})();

// Recording from the microphone (MediaRecorder): start, stop, the time so far, listening back. The recording is
// put into the page's file field, so it goes up through the same upload (and the same checks on the server) as a
// chosen file. Without a microphone, without permission or in a browser without MediaRecorder the page says so
// and the file field still works.
(function () {
  "use strict";

  var TYPES = ["audio/webm;codecs=opus", "audio/ogg;codecs=opus", "audio/webm", "audio/ogg", "audio/mp4"];

  function clock(seconds) {
    var whole = Math.floor(seconds);
    return Math.floor(whole / 60) + ":" + String(whole % 60).padStart(2, "0");
  }

  function chosenType() {
    if (typeof MediaRecorder.isTypeSupported !== "function") { return ""; }
    for (var i = 0; i < TYPES.length; i++) { if (MediaRecorder.isTypeSupported(TYPES[i])) { return TYPES[i]; } }
    return "";
  }

  function suffixOf(type) {
    if (type.indexOf("ogg") >= 0) { return ".ogg"; }
    if (type.indexOf("mp4") >= 0) { return ".m4a"; }
    return ".webm";
  }

  function setUp(box) {
    var input = document.getElementById(box.dataset.input), texts = box.dataset,
        start = box.querySelector(".recorder-start"), stop = box.querySelector(".recorder-stop"),
        timer = box.querySelector(".recorder-time"), playback = box.querySelector(".recorder-playback"),
        message = document.getElementById(input.getAttribute("aria-describedby")) || box;
    function say(text, isError) {
      message.textContent = text;
      message.classList.toggle("error", !!isError);
      message.setAttribute("role", isError ? "alert" : "status");
    }
    box.hidden = false;
    if (!window.MediaRecorder || !navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      start.disabled = true;
      say(texts.unsupported, true);
      return;
    }
    var recorder = null, pieces = [], began = 0, ticking = null, limit = Number(texts.maxSeconds) || 0;

    function finish(stream, type) {
      clearInterval(ticking);
      stream.getTracks().forEach(function (track) { track.stop(); });
      stop.hidden = true;
      start.hidden = false;
      var blob = new Blob(pieces, {type: type || "audio/webm"}), seconds = (Date.now() - began) / 1000;
      var file = new File([blob], "ghi-am" + suffixOf(blob.type), {type: blob.type});
      if (playback.src) { URL.revokeObjectURL(playback.src); }
      playback.src = URL.createObjectURL(blob);
      playback.hidden = false;
      try {
        var transfer = new DataTransfer();
        transfer.items.add(file);
        input.files = transfer.files;
        input.dispatchEvent(new Event("change", {bubbles: true}));
        say(texts.recorded.replace("LENGTH", clock(seconds)), false);
      } catch (error) {
        say(texts.failed, true);
      }
    }

    start.addEventListener("click", function () {
      start.disabled = true;
      navigator.mediaDevices.getUserMedia({audio: true}).then(function (stream) {
        var type = chosenType();
        pieces = [];
        recorder = type ? new MediaRecorder(stream, {mimeType: type}) : new MediaRecorder(stream);
        recorder.addEventListener("dataavailable", function (event) { if (event.data.size) { pieces.push(event.data); } });
        recorder.addEventListener("stop", function () { finish(stream, recorder.mimeType || type); });
        recorder.start(1000);
        began = Date.now();
        timer.textContent = "0:00";
        timer.hidden = false;
        start.hidden = true;
        start.disabled = false;
        stop.hidden = false;
        stop.focus();
        say("", false);
        ticking = setInterval(function () {
          var seconds = (Date.now() - began) / 1000;
          timer.textContent = clock(seconds);
          if (limit && seconds >= limit && recorder.state === "recording") { recorder.stop(); }
        }, 250);
      }).catch(function (error) {
        start.disabled = false;
        var name = error && error.name;
        if (name === "NotAllowedError" || name === "SecurityError") { say(texts.denied, true); }
        else if (name === "NotFoundError" || name === "OverconstrainedError" || name === "NotReadableError") {
          say(texts.noMicrophone, true);
        } else { say(texts.failed, true); }
      });
    });
    stop.addEventListener("click", function () {
      if (recorder && recorder.state === "recording") { recorder.stop(); }
    });
  }

  document.querySelectorAll(".recorder[data-input]").forEach(setUp);
}());

// Uploads with a progress bar: a form marked "upload-form" is sent by XMLHttpRequest (so the browser reports how
// much has gone) to the same route the plain form posts to; the route answers this script in JSON. Without this
// file the form posts as usual and the page comes back with the message. On the item page, the upload's answer
// is announced with an "upload:done" event that items.js uses to show the new recording.
(function () {
  "use strict";

  function fileInput(form) {
    return Array.prototype.find.call(form.elements, function (element) { return element.type === "file"; });
  }

  function say(form, text, isError) {
    var message = form.querySelector(".upload-message") || document.querySelector(".upload-message");
    if (!message) { return; }
    message.textContent = text;
    message.classList.toggle("error", !!isError);
    message.setAttribute("role", isError ? "alert" : "status");
    var input = fileInput(form);
    if (input) { if (isError) { input.setAttribute("aria-invalid", "true"); } else { input.removeAttribute("aria-invalid"); } }
  }

  function settings(form) {
    // On a new item the file field sits outside the item form; its box carries the messages.
    return form.dataset.maxBytes ? form.dataset : (document.querySelector("[data-max-bytes]") || form).dataset;
  }

  function send(form, submitter) {
    var input = fileInput(form), data, request = new XMLHttpRequest(), texts = settings(form),
        progress = form.querySelector(".upload-progress") || document.querySelector(".upload-progress"),
        buttons = form.querySelectorAll("button[type=submit]");
    try { data = new FormData(form, submitter); } catch (error) { data = new FormData(form); }
    request.open("POST", form.getAttribute("action") || window.location.pathname);
    request.setRequestHeader("Accept", "application/json");
    var token = form.querySelector("input[name=csrf_token]");
    if (token) { request.setRequestHeader("X-CSRFToken", token.value); }
    function done() {
      Array.prototype.forEach.call(buttons, function (button) { button.disabled = false; });
      if (progress) { progress.hidden = true; }
    }
    request.upload.addEventListener("progress", function (event) {
      if (progress && event.lengthComputable) {
        progress.value = Math.round(event.loaded * 100 / event.total);
        progress.textContent = progress.value + "%";
      }
    });
    request.addEventListener("load", function () {
      var answer = null;
      try { answer = JSON.parse(request.responseText); } catch (error) { answer = null; }
      done();
      if (request.status >= 200 && request.status < 300 && answer) {
        if (answer.location) { window.location.assign(answer.location); return; }
        say(form, answer.message || "", false);
        form.dispatchEvent(new CustomEvent("upload:done", {bubbles: true, detail: answer}));
        if (input) { input.value = ""; }
        return;
      }
      if (request.status === 422 && form.classList.contains("item-form")) {
        // The item's own fields were refused: the plain form shows each message next to its field.
        HTMLFormElement.prototype.submit.call(form);
        return;
      }
      var text = answer && answer.message;
      if (!text && request.status === 413) { text = texts.tooLarge; }
      say(form, text || texts.failed, true);
    });
    request.addEventListener("error", function () { done(); say(form, texts.failed, true); });
    Array.prototype.forEach.call(buttons, function (button) { button.disabled = true; });
    if (progress) { progress.value = 0; progress.hidden = false; }
    say(form, texts.uploading || "", false);
    request.send(data);
  }

  document.querySelectorAll("form.upload-form").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      var input = fileInput(form), texts = settings(form);
      var file = input && input.files && input.files[0];
      if (!file) {
        if (form.classList.contains("item-form")) { return; }  // a bulletin saved without a file: as usual
        event.preventDefault();
        say(form, texts.choose || "", true);
        return;
      }
      event.preventDefault();
      if (texts.maxBytes && file.size > Number(texts.maxBytes)) { say(form, texts.tooLarge, true); return; }
      send(form, event.submitter);
    });
  });
}());

// The notice editor's live preview: the form's texts, unsaved, rendered as the practitioner
// types. Without this script the Preview button does the same with a page reload.
(function () {
  "use strict";
  var form = document.getElementById("notice-form");
  if (!form || !window.fetch) {
    return;
  }
  var address = form.getAttribute("data-live");
  var token = form.querySelector('input[name="csrf"]').value;
  var error = document.getElementById("preview-error");
  var subject = document.getElementById("preview-subject");
  var text = document.getElementById("preview-text");
  var frame = document.getElementById("preview-frame");
  var state = document.getElementById("preview-state");
  var timer = null;
  var latest = 0;

  function show(answer) {
    state.textContent = "";
    if (answer.error) {
      error.textContent = answer.error;  // the last good preview stays below it
      error.hidden = false;
      return;
    }
    error.hidden = true;
    subject.textContent = answer.subject;
    text.textContent = answer.text;
    if (answer.frame) {
      frame.setAttribute("src", answer.frame);
    }
  }

  function refresh() {
    var mine = ++latest;
    var fields = new URLSearchParams(new FormData(form));
    fields.set("action", "preview");
    state.textContent = "updating…";
    fetch(address, {
      method: "POST",
      body: fields,
      headers: { "X-CSRF-Token": token },
      credentials: "same-origin",
      redirect: "error"
    })
      .then(function (response) {
        if (!response.ok) {
          throw new Error(String(response.status));
        }
        return response.json();
      })
      .then(function (answer) {
        if (mine === latest) {
          show(answer);
        }
      })
      .catch(function () {
        if (mine === latest) {
          state.textContent = "(live preview unavailable: press Preview; you may need to log in again)";
        }
      });
  }

  function soon() {
    window.clearTimeout(timer);
    timer = window.setTimeout(refresh, 400);
  }

  form.addEventListener("input", soon);
  form.addEventListener("change", soon);
})();

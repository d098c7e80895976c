// Settings dialog: "inherit" switches and the live preview of the reminder text.
// The rules (placeholders, encoding, segments) live in Python; this only asks the server.
(function () {
  "use strict";
  var csrf = document.querySelector('meta[name="csrf-token"]').getAttribute("content");

  document.querySelectorAll("input[data-inherit-for]").forEach(function (box) {
    var input = document.getElementById(box.getAttribute("data-inherit-for"));
    var sync = function () {
      // A select has no read-only state; disabled is fine, "inherit" ignores the value anyway.
      if (input.tagName === "SELECT") { input.disabled = box.checked; } else { input.readOnly = box.checked; }
      input.classList.toggle("inherited", box.checked);
    };
    box.addEventListener("change", function () {
      // Inheriting again shows the value that will apply, not the one last typed.
      if (box.checked) {
        input.value = input.getAttribute("data-inherited");
        input.dispatchEvent(new Event("change"));
      }
      sync();
      schedule();
    });
    sync();
  });

  // Only the field the chosen send policy uses is shown: a time, or a number of hours.
  var policy = document.getElementById("send_policy");
  if (policy) {
    var showPolicy = function () {
      var daily = policy.value === "day_before";
      document.querySelector('[data-setting="send_time"]').hidden = !daily;
      document.querySelector('[data-setting="hours_before"]').hidden = daily;
    };
    policy.addEventListener("change", showPolicy);
    showPolicy();
  }

  var editor = document.querySelector("textarea[data-preview-url]");
  if (!editor) { return; }
  var inheritBox = document.querySelector('input[data-inherit-for="' + editor.id + '"]');
  var textOut = document.getElementById("preview-text");
  var infoOut = document.getElementById("preview-info");
  var errorOut = document.getElementById("preview-error");
  var statusOut = document.getElementById("preview-status");
  var timer = null;
  var latest = 0;
  // The preview's error belongs to the text field, as the errors of the server do.
  editor.setAttribute("aria-describedby", ((editor.getAttribute("aria-describedby") || "") + " preview-error").trim());

  function currentTemplate() {
    return inheritBox && inheritBox.checked ? editor.getAttribute("data-inherited") : editor.value;
  }

  function schedule() {
    window.clearTimeout(timer);
    timer = window.setTimeout(update, 200);
  }

  function update() {
    var request = ++latest;
    fetch(editor.getAttribute("data-preview-url"), {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf },
      body: JSON.stringify({ template: currentTemplate() })
    }).then(function (response) { return response.json(); }).then(function (data) {
      if (request !== latest) { return; }
      textOut.textContent = data.text || "";
      infoOut.textContent = data.summary || "";
      infoOut.setAttribute("data-segments", data.segments);
      infoOut.setAttribute("data-encoding", data.encoding);
      errorOut.hidden = !data.error;
      errorOut.textContent = data.error || "";
      editor.setAttribute("aria-invalid", data.error ? "true" : "false");
      announce(data.error || data.encoding + " · " + data.segments + " SMS");
    });
  }

  // A screen reader hears the preview's outcome when it changes, not the whole preview at every pause.
  function announce(text) {
    if (statusOut.textContent !== text) { statusOut.textContent = text; }
  }

  editor.addEventListener("input", schedule);
  update();
})();

// Settings dialog: "inherit" switches and the live previews of the reminder and notice texts.
// The rules (placeholders, encoding, segments, sender and reply line) live in Python; this only asks the server.
(function () {
  "use strict";
  var csrf = document.querySelector('meta[name="csrf-token"]').getAttribute("content");
  var previews = [];

  function byId(id) { return document.getElementById(id); }

  function inheritBoxOf(input) {
    return document.querySelector('input[data-inherit-for="' + input.id + '"]');
  }

  // The value that applies: the inherited one while "inherit" is ticked, else the one chosen.
  function valueOf(input) {
    var box = inheritBoxOf(input);
    return box && box.checked ? input.getAttribute("data-inherited") : input.value;
  }

  document.querySelectorAll("input[data-inherit-for]").forEach(function (box) {
    var input = byId(box.getAttribute("data-inherit-for"));
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
      previews.forEach(function (preview) { preview.schedule(); });
    });
    sync();
  });

  // Only the field the chosen send policy uses is shown: a time, or a number of hours.
  var policy = byId("send_policy");
  if (policy) {
    var showPolicy = function () {
      var daily = policy.value === "day_before";
      document.querySelector('[data-setting="send_time"]').hidden = !daily;
      document.querySelector('[data-setting="hours_before"]').hidden = daily;
    };
    policy.addEventListener("change", showPolicy);
    showPolicy();
  }

  // The reminder reaches the patient from the sender, or from the reply number ending with the reply line:
  // its preview follows those fields too, so the segment count shows what the line costs.
  var replies = { sender: byId("sender"), replies_enabled: byId("replies_enabled"), reply_line: byId("reply_line") };
  var replyWarning = byId("reply-number-warning");
  var replyLineError = byId("reply_line-preview-error");
  if (replies.reply_line && replyLineError) {
    describe(replies.reply_line, replyLineError.id);
  }

  function describe(input, id) {
    input.setAttribute("aria-describedby", ((input.getAttribute("aria-describedby") || "") + " " + id).trim());
  }

  function livePreview(editor) {
    var prefix = editor.getAttribute("data-preview");
    var out = {
      text: byId(prefix + "-text"), info: byId(prefix + "-info"), error: byId(prefix + "-error"),
      status: byId(prefix + "-status"), sender: byId(prefix + "-sender")
    };
    // As domain.notices.takes_reply_line: every text but the cancellation notice ends with the reply line.
    var answerable = editor.id !== "change_template_cancelled";
    var timer = null;
    var latest = 0;
    // The preview's error belongs to the text field, as the errors of the server do.
    describe(editor, out.error.id);

    function body() {
      var sent = { template: valueOf(editor) };
      if (answerable) {
        sent.sender = valueOf(replies.sender);
        sent.replies_enabled = valueOf(replies.replies_enabled) === "True";
        sent.reply_line = valueOf(replies.reply_line);
      }
      return sent;
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
        body: JSON.stringify(body())
      }).then(function (response) { return response.json(); }).then(function (data) {
        if (request !== latest) { return; }
        out.text.textContent = data.text || "";
        out.info.textContent = data.summary || "";
        out.info.setAttribute("data-segments", data.segments);
        out.info.setAttribute("data-encoding", data.encoding);
        out.error.hidden = !data.error;
        out.error.textContent = data.error || "";
        editor.setAttribute("aria-invalid", data.error ? "true" : "false");
        if (answerable) { showReplies(data); }
        announce(data.error || data.reply_line_error || data.encoding + " · " + data.segments + " SMS");
      });
    }

    function showReplies(data) {
      if (out.sender) { out.sender.textContent = data.sender || ""; }
      if (replyWarning) { replyWarning.hidden = !data.replies_unreachable; }
      if (replyLineError) {
        replyLineError.hidden = !data.reply_line_error;
        replyLineError.textContent = data.reply_line_error || "";
      }
    }

    // A screen reader hears the preview's outcome when it changes, not the whole preview at every pause.
    function announce(text) {
      if (out.status.textContent !== text) { out.status.textContent = text; }
    }

    editor.addEventListener("input", schedule);
    if (answerable) {
      Object.keys(replies).forEach(function (name) {
        if (replies[name]) { replies[name].addEventListener(name === "replies_enabled" ? "change" : "input", schedule); }
      });
    }
    update();
    return { schedule: schedule };
  }

  document.querySelectorAll("textarea[data-preview-url]").forEach(function (editor) {
    previews.push(livePreview(editor));
  });
})();

// After a bad submit the page opens with the list of errors (or the error message) in focus,
// so a screen reader reads it at once; each listed error leads to its field.
(function () {
  "use strict";
  var summary = document.getElementById("error-summary") || document.querySelector(".flash.error");
  if (summary) { summary.focus(); }

  // The skip link moves the focus without adding "#main" to the address: a form without an
  // action would post to it, and the page it returns would move the focus there again.
  var skip = document.querySelector(".skip-link");
  var main = document.getElementById("main");
  if (skip && main) {
    skip.addEventListener("click", function (event) {
      event.preventDefault();
      main.focus();
    });
  }

  document.querySelectorAll("#error-summary a[href^='#']").forEach(function (link) {
    link.addEventListener("click", function (event) {
      var field = document.getElementById(link.getAttribute("href").slice(1));
      if (!field) { return; }
      // A fragment link scrolls but leaves the focus behind; the user wants to type into the field.
      event.preventDefault();
      var label = document.querySelector("label[for='" + field.id + "']");
      (label || field).scrollIntoView({ block: "center" });
      field.focus();
    });
  });
})();

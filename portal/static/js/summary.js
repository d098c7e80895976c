// The copy button of the ticket summary: copies the text of the element named in
// data-copy-target and says so in the status next to it (a file: the CSP forbids inline code).
"use strict";
document.querySelectorAll("button[data-copy-target]").forEach((button) => {
  const target = document.getElementById(button.dataset.copyTarget);
  const status = document.getElementById(button.dataset.copyStatus);
  button.hidden = !(target && navigator.clipboard);
  button.addEventListener("click", () => {
    navigator.clipboard.writeText(target.textContent).then(
      () => { status.textContent = button.dataset.copied; },
      () => { status.textContent = button.dataset.failed; },
    );
  });
});

// duijie: the little JavaScript the pages use. Everything works without it; it only adds
// progress feedback on long actions and moves focus to messages after a form post.
(function () {
  "use strict";

  // Long actions (generating a pairing): show a progress bar and the elapsed time, and keep
  // the button from being pressed twice.
  document.querySelectorAll("form[data-progress]").forEach(function (form) {
    form.addEventListener("submit", function () {
      var box = form.querySelector(".progress");
      var text = form.querySelector(".progress-text");
      var button = form.querySelector("button[type=submit]");
      if (box) { box.hidden = false; }
      var started = Date.now();
      var label = form.getAttribute("data-progress");
      function tick() {
        if (text) {
          text.textContent = label + " 已用时 " + Math.round((Date.now() - started) / 1000) + " 秒";
        }
      }
      tick();
      window.setInterval(tick, 500);
      if (button) {
        window.setTimeout(function () { button.disabled = true; button.setAttribute("aria-busy", "true"); }, 0);
      }
    });
  });

  // After a post: bring the error summary, the refusal or the preview into view and focus.
  var target = document.getElementById("error-summary") ||
    document.getElementById("refused") ||
    document.getElementById("preview-results");
  if (target) {
    if (!target.hasAttribute("tabindex")) { target.setAttribute("tabindex", "-1"); }
    target.focus();
    target.scrollIntoView({ block: "start" });
  }
})();

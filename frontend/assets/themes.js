// A searchable list of themes on the log-feedback forms: an enhancement only. Without
// JavaScript the themes are a plain list of checkboxes inside a fold that opens.
// Typing in "Find a theme" hides the themes whose names do not hold what was typed (chosen
// ones always stay), and a polite live region says how many are shown.
(function () {
  "use strict";
  var finder = document.querySelector("[data-theme-finder]");
  var list = document.getElementById("themes-list");
  if (!finder || !list) return;
  var input = finder.querySelector("input[type=search]");
  var status = document.getElementById("theme-filter-status");
  var choices = Array.prototype.slice.call(list.querySelectorAll(".choice"));
  finder.hidden = false;
  function filter() {
    var wanted = input.value.trim().toLowerCase();
    var shown = 0;
    choices.forEach(function (choice) {
      var box = choice.querySelector("input");
      var label = choice.querySelector("label");
      var keep = !wanted || box.checked || label.textContent.toLowerCase().indexOf(wanted) !== -1;
      choice.hidden = !keep;
      if (keep) shown += 1;
    });
    status.textContent = wanted ? (shown === 1 ? "1 theme shown" : shown + " themes shown") : "";
  }
  input.addEventListener("input", filter);
  // Enter in the search box must not send the whole form.
  input.addEventListener("keydown", function (event) {
    if (event.key === "Enter") event.preventDefault();
  });
})();

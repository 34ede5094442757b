// Keeps an import's progress page up to date while it runs: an enhancement only. Without
// JavaScript the page has a "Check progress" link that loads it again (no meta refresh).
// Every 2 seconds, while the import runs, this loads the same page, takes the new figures and
// links from it, and says what changed in the page's polite live region.
(function () {
  "use strict";
  var job = document.querySelector("[data-import-job]");
  if (!job || !window.fetch || !window.DOMParser) return;
  var EVERY = 2000;

  function running() {
    return job.getAttribute("data-state") === "RUNNING";
  }

  function later() {
    if (running()) window.setTimeout(check, EVERY);
  }

  // Calls how(mine, theirs) with the element matching selector in this page and in fresh.
  function swap(fresh, selector, how) {
    var mine = document.querySelector(selector);
    var theirs = fresh.querySelector(selector);
    if (mine && theirs) how(mine, theirs);
  }

  function check() {
    fetch(window.location.href, { credentials: "same-origin", headers: { Accept: "text/html" } })
      .then(function (response) {
        if (!response.ok) throw new Error("status " + response.status);
        return response.text();
      })
      .then(function (text) {
        var fresh = new DOMParser().parseFromString(text, "text/html");
        var next = fresh.querySelector("[data-import-job]");
        if (!next) return;
        document.title = fresh.title;
        swap(fresh, "main h1", function (mine, theirs) {
          mine.textContent = theirs.textContent;
        });
        swap(fresh, "#import-progress", function (mine, theirs) {
          mine.max = theirs.max;
          mine.value = theirs.value;
          mine.textContent = theirs.textContent;
        });
        // The page's own markup, as the server wrote it for this person.
        swap(fresh, "#import-next", function (mine, theirs) {
          mine.innerHTML = theirs.innerHTML;
        });
        swap(fresh, "#import-status", function (mine, theirs) {
          if (mine.textContent !== theirs.textContent) mine.textContent = theirs.textContent;
        });
        job.setAttribute("data-state", next.getAttribute("data-state"));
      })
      .catch(function () {
        // Offline for a moment, or the server restarting: try again at the next turn.
      })
      .then(later);
  }

  later();
})();

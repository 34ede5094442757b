// Heard: search-as-you-type for the evidence picker on a decision's page.
//
// The picker is a plain GET form and works without this file. With it, typing in the search
// box fetches the same page with ?q= (after a short pause), swaps in the new results, and says
// how many matched in the polite live region. Pressing Search still submits the form.
(function () {
  "use strict";
  var form = document.querySelector("form[data-picker]");
  var results = document.getElementById("picker-results");
  var status = document.getElementById("picker-status");
  if (!form || !results || !status || !window.fetch || !window.DOMParser || !window.URL) {
    return;
  }
  var input = form.querySelector("input[name=q]");
  if (!input) {
    return;
  }
  var timer = null;
  var controller = null;
  var last = input.value.trim();

  function search() {
    var q = input.value.trim();
    if (q === last) {
      return;
    }
    last = q;
    if (controller && controller.abort) {
      controller.abort();
    }
    controller = window.AbortController ? new AbortController() : null;
    var target = new URL(form.getAttribute("action"), window.location.href);
    target.hash = "";
    target.search = q ? "?q=" + encodeURIComponent(q) : "";
    form.setAttribute("aria-busy", "true");
    fetch(target.toString(), {
      credentials: "same-origin",
      headers: { Accept: "text/html" },
      signal: controller ? controller.signal : undefined,
    })
      .then(function (response) {
        if (!response.ok) {
          throw new Error("status " + response.status);
        }
        return response.text();
      })
      .then(function (html) {
        if (q !== last) {
          return;
        }
        var fresh = new DOMParser().parseFromString(html, "text/html");
        var freshResults = fresh.getElementById("picker-results");
        var freshStatus = fresh.getElementById("picker-status");
        if (!freshResults) {
          throw new Error("no results on the page");
        }
        var nodes = [];
        for (var i = 0; i < freshResults.childNodes.length; i++) {
          nodes.push(document.importNode(freshResults.childNodes[i], true));
        }
        while (results.firstChild) {
          results.removeChild(results.firstChild);
        }
        nodes.forEach(function (node) {
          results.appendChild(node);
        });
        status.textContent = freshStatus ? freshStatus.textContent : "";
        if (window.history && window.history.replaceState) {
          window.history.replaceState(null, "", target.pathname + target.search + "#picker");
        }
      })
      .catch(function (error) {
        if (error && error.name === "AbortError") {
          return;
        }
        last = null;
        status.textContent = "Searching as you type is not working just now. Press Search instead.";
      })
      .then(function () {
        form.removeAttribute("aria-busy");
      });
  }

  input.addEventListener("input", function () {
    window.clearTimeout(timer);
    timer = window.setTimeout(search, 300);
  });
})();

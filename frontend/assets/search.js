// Search as you type: an enhancement only. Without JavaScript the search form posts as usual.
// After a short pause in typing, it fetches the same results page the form would open and
// swaps in its results; a polite live region says how many matched.
(function () {
  "use strict";
  var form = document.querySelector("form[role=search][data-live-search]");
  var input = form && form.querySelector("input[type=search]");
  var region = document.getElementById("search-results");
  var live = document.getElementById("search-live");
  if (!form || !input || !region || !live || !window.fetch || !window.DOMParser) return;
  var timer = null;
  var latest = 0;
  function update() {
    var query = new URLSearchParams(new FormData(form)).toString();
    var url = form.getAttribute("action") + "?" + query;
    var ticket = ++latest;
    fetch(url, { credentials: "same-origin", headers: { Accept: "text/html" } })
      .then(function (response) {
        return response.ok ? response.text() : Promise.reject(response.status);
      })
      .then(function (html) {
        if (ticket !== latest) return; // a newer search has started
        var page = new DOMParser().parseFromString(html, "text/html");
        var fresh = page.getElementById("search-results");
        if (!fresh) return;
        region.innerHTML = fresh.innerHTML;
        var status = region.querySelector("[data-search-status]");
        // The live region below says it once; the swapped-in status need not say it again.
        if (status) status.removeAttribute("role");
        live.textContent = status ? status.textContent : "";
        history.replaceState(null, "", url);
      })
      .catch(function () {
        live.textContent = "Search results could not be updated. Press Search to try again.";
      });
  }
  input.addEventListener("input", function () {
    clearTimeout(timer);
    if (input.value.trim().length < 2) return;
    timer = setTimeout(update, 350);
  });
})();

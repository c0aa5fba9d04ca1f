// puente's page: the little that needs a script. Everything works without it; with it, the
// inbox updates when something arrives and the language switch returns to the same page.
"use strict";

(function () {
  // The language switch goes back to the page it was pressed on.
  for (const form of document.querySelectorAll("form.lang")) {
    const back = form.querySelector('input[name="back"]');
    if (back) {
      back.value = location.pathname + location.search;
    }
  }

  // When the node reports news (a hold arrived or was answered, an offer is about to expire),
  // fetch the inbox again and put it in place, and update the count in the navigation.
  if (!window.EventSource) {
    return;
  }
  const live = document.querySelector("[data-live]");
  const badge = document.getElementById("waiting");
  const events = new EventSource("/events");
  events.addEventListener("inbox", function () {
    if (live) {
      fetch(live.getAttribute("data-live"), { credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.text() : null; })
        .then(function (html) {
          if (html !== null) {
            live.innerHTML = html;
          }
        })
        .catch(function () {});
    }
    if (badge) {
      fetch("/inbox/count", { credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.text() : null; })
        .then(function (n) {
          if (n !== null) {
            badge.textContent = n.trim();
          }
        })
        .catch(function () {});
    }
  });
})();

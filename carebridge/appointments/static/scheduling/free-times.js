// The booking page's free times come a day at a time; htmx swaps each new day into #free-times
// (scheduling/_free_times.html). Start the NHS.UK components in what arrived, as carebridge.js does for
// the page at load: the time buttons are links that a press of the space bar must also follow.
import { initAll } from "../vendor/nhsuk/nhsuk-frontend.min.js";

document.body.addEventListener("htmx:afterSettle", (event) => {
  const region = event.detail.target;
  if (region && region.id === "free-times") {
    initAll({ scope: region });
  }
});

// htmx keeps no copy of this page (hx-history="false": it names the patient), so Back must fetch it.
// Load it as a whole page then, rather than let htmx swap in a body whose header menu and other NHS.UK
// components nobody would start.
if (window.htmx) {
  window.htmx.config.refreshOnHistoryMiss = true;
}

// Starts the NHS.UK frontend components (header menu, error summary focus, ...) on every page.
import { createAll, Header, initAll, InitError } from "../vendor/nhsuk/nhsuk-frontend.min.js";

// The NHS.UK header lays out its menu as the page starts and on every resize, and to measure the
// items it put each one back into the menu's list, even one already there. A link taken out of the
// page, even for an instant, loses a click on it that is under way: a quick tap on a menu link while
// the page was starting did nothing (the browser tests caught it under load). Here an item that is
// already in the list stays put; only items in the "More" menu move back to be measured.
class SteadyHeader extends Header {
  resetNavigation() {
    const { $menu, $navigationList } = this;
    if (!$menu || !$navigationList) {
      return;
    }
    let right = 0;
    for (const breakpoint of this.breakpoints) {
      // Items in the list come first and in order, so those back from the menu follow them in order.
      if (breakpoint.element.parentElement !== $navigationList) {
        $navigationList.insertBefore(breakpoint.element, $menu);
      }
      right += breakpoint.element.offsetWidth;
      breakpoint.right = right;
    }
    this.width = $navigationList.offsetWidth;
  }
}

createAll(SteadyHeader);
initAll({
  // initAll's own Header finds the header already started by SteadyHeader; any other problem is
  // logged as NHS.UK frontend logs it.
  onError(error, context) {
    if (!(error instanceof InitError && context.component === Header)) {
      console.log(error);
    }
  },
});
// The components are started (the browser tests wait for this). NHS.UK's `nhsuk-frontend-supported`
// class, which its stylesheet goes by, is set as the body starts (carebridge/core/frontend.py).
document.body.classList.add("js-enabled");

"""axe-core on every state a browser test reaches (issue 9): each page as it stands just before the
browser leaves it, and the last one at the end of the test.

A state is left when the tab navigates (a link, a form, `page.goto`, Back) or asks for something with
htmx or fetch. The watcher intercepts each such request and, before letting it go, has axe check the
page still on screen; so every state is checked, errors and all, with no timers or guesses about when a
page has "settled". Stylesheets, scripts and images go straight through.

How the page is asked. Chromium holds every DevTools message to a tab while one of its navigations is
pending, so `page.evaluate()` from the handler of a navigation's request would wait for ever. The page
is asked over the network instead, which a pending navigation does not stop: every document opens a
request to CHANNEL_PATH as it starts, which the watcher keeps unanswered (it never reaches Django). To
check the page, the watcher answers that request with "check"; the page runs axe and sends the result
in its next request to CHANNEL_PATH, which the watcher again keeps for the next check.

axe-core is the npm package pinned in frontend/package-lock.json. The tests read it from
frontend/node_modules (installed by `npm ci` in bin/vendor-assets); it is never copied into the static
files, so no page served to people loads it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from playwright.sync_api import BrowserContext, Error, Page, Request, Route

AXE_JS = Path(__file__).resolve().parents[2] / "frontend" / "node_modules" / "axe-core" / "axe.min.js"

CHANNEL_PATH = "/__carebridge_axe__"

# Run in every document as it starts (after axe's own script). A frame inside the page is left to its
# page, and a document that is not HTML (JSON, a PDF) answers every "check" with "not checked". An HTML
# page answers with the state's key and, unless the key is the one checked last, axe's violations. The
# key is the address, the viewport width and a hash of the document with the CSRF tokens' values
# blanked (they change on every render of the same page).
CHANNEL_SCRIPT = """(() => {
  if (window !== window.top || location.protocol === 'about:') {
    return;
  }
  const checkable = document.contentType === 'text/html';

  async function check(lastKey) {
    if (typeof axe === 'undefined') {
      throw new Error('axe-core did not load in this page');
    }
    // The whole document, styled: its stylesheets decide colours and sizes. Not the load event, which
    // waits for images too and which a page being left mid-load may never fire (the navigation away is
    // held until this check answers).
    if (document.readyState === 'loading') {
      await new Promise((resolve) => document.addEventListener('DOMContentLoaded', resolve, {once: true}));
    }
    await Promise.all(Array.from(document.querySelectorAll('link[rel="stylesheet"]'), (link) => link.sheet
      ? null
      : new Promise((resolve) => {
        link.addEventListener('load', resolve, {once: true});
        link.addEventListener('error', resolve, {once: true});
      })));
    const html = document.documentElement.outerHTML.replace(/(name="csrfmiddlewaretoken" value=")[^"]*/g, '$1');
    const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(html));
    const hash = Array.from(new Uint8Array(digest), (byte) => byte.toString(16).padStart(2, '0')).join('');
    const key = `${location.href} ${window.innerWidth} ${hash}`;
    if (key === lastKey) {
      return {checked: false, key};
    }
    const results = await axe.run(document, {resultTypes: ['violations']});
    return {
      checked: true,
      key,
      url: location.href,
      width: window.innerWidth,
      violations: results.violations.map((violation) => ({
        id: violation.id,
        impact: violation.impact || '',
        help: violation.help,
        targets: violation.nodes.map((node) => node.target.map(
          (part) => Array.isArray(part) ? part.join(' >>> ') : part).join(' ')),
        summary: violation.nodes.length ? (violation.nodes[0].failureSummary || '') : '',
      })),
    };
  }

  async function send(message) {
    let command;
    try {
      const response = await fetch('%(channel)s', {method: 'POST', body: JSON.stringify(message)});
      command = await response.json();
    } catch (gone) {
      return;  // the document is being replaced, which cancels its request
    }
    let answer;
    try {
      answer = checkable ? await check(command.lastKey) : {checked: false, key: null};
    } catch (error) {
      answer = {error: String(error)};
    }
    send(answer);
  }

  send({checkable});
})();""".replace("%(channel)s", CHANNEL_PATH)

# How many round trips to the browser the watcher lets pass while waiting for a route it knows is coming.
ROUTE_WAITS = 50

# Requests that leave the state on screen: a navigation of the tab, or htmx (XMLHttpRequest) and fetch.
STATE_CHANGING_TYPES = frozenset({"xhr", "fetch"})


@dataclass(frozen=True)
class AxeViolation:
    """One axe rule broken in one state: where, at what width, and by which elements."""

    url: str
    viewport_width: int
    rule: str
    impact: str
    help: str
    targets: tuple[str, ...]
    summary: str  # axe's advice for the first element; the others are usually the same


@dataclass
class AxeWatcher:
    """Checks every state of every tab in one browser context; see the module's docstring."""

    violations: list[AxeViolation] = field(default_factory=list)
    # States that could not be checked, as "url: why". A test with any fails, since "every state is
    # checked" would otherwise quietly stop being true.
    unchecked: list[str] = field(default_factory=list)
    # Rules a test accepts on one address (without its #fragment): only for a third-party page that
    # our template hosts but cannot change (the Swagger UI at /api/docs).
    accepted: dict[str, frozenset[str]] = field(default_factory=dict)
    # Each tab's document's unanswered request to CHANNEL_PATH, the key of the state checked last, and
    # the tabs being checked now.
    _listening: dict[Page, Route] = field(default_factory=dict)
    _last_key: dict[Page, str] = field(default_factory=dict)
    _checking: set[Page] = field(default_factory=set)

    def attach(self, context: BrowserContext) -> None:
        context.add_init_script(path=AXE_JS)
        context.add_init_script(script=CHANNEL_SCRIPT)
        context.route("**/*", self._on_request)

    def accept(self, url: str, rules: frozenset[str]) -> None:
        self.accepted[url] = rules

    def check_open_tabs(self, context: BrowserContext) -> None:
        """The last state of each tab still open: called at the end of the test, before the context closes."""
        for tab in context.pages:
            self.check(tab)

    def check(self, tab: Page) -> None:
        if tab in self._checking:
            # A second request leaving the same state (the test went on without waiting for a click's
            # page): it waits for the first one's check, which covers both, so the page stays until read.
            while tab in self._checking:
                self._let_playwright_work(tab)
            return
        if tab.is_closed() or tab.url == "about:blank":
            return
        self._checking.add(tab)
        try:
            answer = self._ask(tab)
        finally:
            self._checking.discard(tab)
        if answer is None:
            return
        if "error" in answer:
            self.unchecked.append(f"{tab.url}: axe failed: {answer['error']}")
            return
        if not answer["checked"]:
            return
        self._last_key[tab] = answer["key"]
        accepted = self.accepted.get(answer["url"].split("#")[0], frozenset())
        for found in answer["violations"]:
            if found["id"] in accepted:
                continue
            violation = AxeViolation(
                url=answer["url"],
                viewport_width=answer["width"],
                rule=found["id"],
                impact=found["impact"],
                help=found["help"],
                targets=tuple(found["targets"]),
                summary=found["summary"],
            )
            if violation not in self.violations:
                self.violations.append(violation)

    def _ask(self, tab: Page) -> dict[str, Any] | None:
        """The page's answer to "check", or None (and why, in `unchecked`) when it gave none.

        The line held for a tab can be its previous document's: after a navigation, until the new
        document's first request reaches the watcher, the one kept is the old document's, which the
        navigation cancelled. Asked on it, either nobody answers (the request is gone) or the new
        document's first word arrives instead; every state that navigation left was checked before it
        went, so the new document, which is the state on screen, is asked once more on its own line.
        """
        for attempt in (1, 2):
            listening = self._listening.pop(tab, None)
            if listening is None:
                self.unchecked.append(
                    f"{tab.url}: the page had no request to {CHANNEL_PATH} open (did its script run?)"
                )
                return None
            try:
                with tab.expect_request(
                    lambda request: _is_channel(request) and request.frame == tab.main_frame
                ) as sent:
                    listening.fulfill(json={"lastKey": self._last_key.get(tab)})
                answer: dict[str, Any] = sent.value.post_data_json or {"error": "the page sent an empty answer"}
                self._wait_for_the_route_of(tab, sent.value)
            except Error as error:
                if attempt == 1 and self._listening.get(tab) is not None:
                    continue  # nobody was on that line; the current document's has come in meanwhile
                self.unchecked.append(f"{tab.url}: {error.message.splitlines()[0]}")
                return None
            if "checkable" not in answer:
                return answer
            if attempt == 2:
                self.unchecked.append(f"{tab.url}: the page was replaced before axe could check it")
        return None

    @staticmethod
    def _let_playwright_work(tab: Page) -> None:
        # Playwright hands events and routes to their handlers only while the test's thread waits on the
        # browser. A question to the browser alone (not to the tab, whose messages a pending navigation
        # holds up) is such a wait, and a short one.
        tab.context.cookies("http://localhost/")

    def _wait_for_the_route_of(self, tab: Page, request: Request) -> None:
        # Playwright tells of a request before it hands its route to our handler; one wait is nearly
        # always enough.
        for _ in range(ROUTE_WAITS):
            listening = self._listening.get(tab)
            if listening is not None and listening.request is request:
                return
            self._let_playwright_work(tab)
        self.unchecked.append(f"{tab.url}: its next request to {CHANNEL_PATH} never reached the watcher")

    def _on_request(self, route: Route, request: Request) -> None:
        if _is_channel(request):
            # Kept, not answered: the document's line for the next check.
            self._listening[request.frame.page] = route
            return
        try:
            if _leaves_the_state(request):
                self.check(request.frame.page)
        finally:
            # fallback, not continue_: a test's own route (registered on the tab) still decides.
            route.fallback()


def _is_channel(request: Request) -> bool:
    return urlsplit(request.url).path == CHANNEL_PATH


def _leaves_the_state(request: Request) -> bool:
    if request.resource_type in STATE_CHANGING_TYPES:
        return True
    return (
        request.resource_type == "document" and request.is_navigation_request() and request.frame.parent_frame is None
    )


# Enough elements to find the pattern; a rule broken by every row of a table would bury the others.
REPORTED_TARGETS = 5


def format_axe_report(violations: Sequence[AxeViolation], unchecked: Sequence[str] = ()) -> str:
    """The violations as a failure message: grouped by state (address and width), one rule per entry."""
    lines: list[str] = []
    state = None
    for violation in violations:
        if (violation.url, violation.viewport_width) != state:
            state = (violation.url, violation.viewport_width)
            lines.append(f"{violation.url} at {violation.viewport_width} px:")
        lines.append(f"  {violation.rule} ({violation.impact}): {violation.help}")
        lines.extend(f"      {target}" for target in violation.targets[:REPORTED_TARGETS])
        if len(violation.targets) > REPORTED_TARGETS:
            lines.append(f"      ... and {len(violation.targets) - REPORTED_TARGETS} more")
        if violation.summary:
            lines.extend(f"    | {line}" for line in violation.summary.splitlines())
    if unchecked:
        lines.append("states axe could not check:")
        lines.extend(f"  {entry}" for entry in unchecked)
    return "\n".join(lines)

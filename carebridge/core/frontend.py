"""The one script a page runs inline, and the Content-Security-Policy source that lets it run.

NHS.UK frontend's stylesheet lays out components for a browser that will run its script once the body
has the `nhsuk-frontend-supported` class: the header's menu, for one, stays on one line, with what does
not fit moved under "More" by the script. That class must be there as the body starts. Set by our
module script, which runs only after the page is parsed, it came late: on a 375 px phone the menu first
wrapped onto three lines and the page then jumped up by 119 px as the script started, so a tap made as
the page appeared landed on whatever moved under the finger (the browser tests caught it under load).

A module script can be loaded only by a browser that knows `noModule`, so that is the test the class
waits for, as NHS.UK frontend's own page template does. The policy allows this script by its hash
rather than by a nonce, so a page's HTML stays the same from one response to the next.
"""

import base64
import hashlib

FRONTEND_SUPPORTED_SCRIPT = (
    "if ('noModule' in HTMLScriptElement.prototype) document.body.classList.add('nhsuk-frontend-supported');"
)

FRONTEND_SUPPORTED_SCRIPT_SOURCE = (
    "'sha256-" + base64.b64encode(hashlib.sha256(FRONTEND_SUPPORTED_SCRIPT.encode()).digest()).decode() + "'"
)

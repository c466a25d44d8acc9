"""The Content-Security-Policy in a real browser (headless Debian chromium driven by Playwright): the pages of
every context work with it and the browser reports no violation (issue 17, item 3).

Needs ``/usr/bin/chromium`` and the ``playwright`` package; skipped, with the reason, when either is missing.
Lives outside the contexts because it visits the pages of all of them.
"""

from __future__ import annotations

import re

import pytest
from rich.console import Console

from tongban.core.demo import DEMO_PASSWORD
from tongban.demo import load_demo

pytestmark = pytest.mark.browser

# Listens before any page script runs (Playwright's init scripts are not subject to the page's CSP).
LISTEN = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__csp.push(e.violatedDirective + " " + (e.blockedURI || "inline") + " " + (e.sourceFile || "")
                    + ":" + e.lineNumber);
});
"""




@pytest.fixture
def demo(transactional_db, settings):
    from tongban.workflow import engine

    settings.TONGBAN_WORKFLOW_INLINE = True
    engine.clear_caches()
    load_demo(Console(quiet=True))
    yield
    engine.clear_caches()


class Visitor:
    """One browser page that records CSP violations (DOM events and console reports) on every page it opens."""

    def __init__(self, browser, base: str) -> None:
        self.page = browser.new_page(viewport={"width": 1200, "height": 900}, locale="zh-CN")
        self.page.set_default_timeout(15000)
        self.page.add_init_script(LISTEN)
        self.base = base
        self.console: list[str] = []
        self.problems: list[tuple[str, list[str]]] = []  # (path, violations) for every page that had any
        self.page.on("console", lambda m: self.console.append(m.text)
                     if "Content Security Policy" in m.text else None)

    def visit(self, path: str, *, ready: str | None = None) -> None:
        self.console.clear()
        response = self.page.goto(self.base + path)
        assert response is not None and response.status == 200, (path, response and response.status)
        policy = response.headers.get("content-security-policy", "")
        assert "script-src 'self'" in policy and "unsafe-inline" not in policy, (path, policy)
        if ready:
            self.page.wait_for_selector(ready)
        violations = self.page.evaluate("window.__csp") + self.console
        if violations:
            self.problems.append((path, violations))

    def sign_in(self, username: str) -> None:
        self.page.goto(f"{self.base}/accounts/login/")
        self.page.fill("#id_username", username)
        self.page.fill("#id_password", DEMO_PASSWORD)
        self.page.click("button[type=submit]")
        self.page.wait_for_url(re.compile(r"^(?!.*/accounts/login/)"))

    def first_link(self, path: str, pattern: str) -> str:
        self.page.goto(self.base + path)
        hrefs = self.page.eval_on_selector_all("a[href]", "els => els.map(e => e.getAttribute('href'))")
        found = [h for h in hrefs if re.fullmatch(pattern, h)]
        assert found, (path, pattern)
        return found[0]


def test_pages_work_under_the_content_security_policy(demo, live_server, chromium):
    v = Visitor(chromium, live_server.url)

    # public pages, the language switch (a select that submits its form: no inline handler any more)
    v.visit("/")
    v.visit("/catalog/")
    v.visit(v.first_link("/catalog/", r"/catalog/items/[^/]+/"))
    v.visit("/catalog/bundles/")
    v.visit("/lists/")
    v.visit("/verify/")
    v.visit("/accounts/login/")
    v.visit("/api/docs", ready="#swagger-ui .info")  # the vendored Swagger UI, no CDN
    v.page.goto(live_server.url + "/")
    v.page.select_option("#lang-select", "en")
    v.page.wait_for_selector("html[lang=en]")
    v.page.select_option("#lang-select", "zh-hans")
    v.page.wait_for_selector("html[lang=zh-hans]")

    # an applicant's pages
    v.sign_in("zhangsan")
    v.visit("/my/")
    v.visit("/apply/")
    v.visit("/my/proxies/")
    v.visit("/credentials/wallet/")
    v.visit("/exchange/my-data/")
    v.visit("/notices/verify/")

    # staff pages, the BPMN diagram (vendored bpmn-js) and the admin
    v.page.context.clear_cookies()
    v.sign_in("admin")
    v.visit("/workflow/definitions/")
    v.visit(v.first_link("/workflow/definitions/", r"/workflow/definitions/[^/]+/diagram/"),
            ready="[data-bpmn] svg")
    v.visit("/workflow/instances/")
    v.visit("/workflow/tasks/")
    v.visit("/window/")
    v.visit("/window/assist/")
    v.visit("/workbench/")
    v.visit("/projects/")
    v.visit("/credentials/manage/")
    v.page.select_option("#status", "active")  # the list filter submits itself (no inline handler)
    v.page.wait_for_url(re.compile(r"status=active"))
    v.visit("/exchange/resources/")
    v.visit("/exchange/grants/")
    v.visit("/exchange/log/")
    v.visit("/admin/")
    v.visit("/admin/core/user/")
    v.visit("/admin/core/user/1/change/")
    v.visit("/admin/axes/accessattempt/")
    v.page.close()
    assert v.problems == []

"""Accessibility kept in CI (issue 16): axe-core (vendored: tongban/static/tongban/vendor/axe-core) runs the WCAG 2.1
A and AA rules on every page kind, in normal and in elder mode (适老化), on a phone (390 px) and a desktop
(1280 px), and fails on any violation; on the phone no page is wider than the screen (no sideways scrolling).

Headless Debian chromium driven by Playwright, like the other browser tests; skipped, with the reason, when
``/usr/bin/chromium`` or the ``playwright`` package is missing. axe is loaded as a script of the site itself (the
pages' Content-Security-Policy stays on: only 'self' scripts run).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field

import pytest
from rich.console import Console

from tongban.core.demo import DEMO_PASSWORD
from tongban.core.elder import COOKIE
from tongban.demo import load_demo
from tongban.testing import Api

from .authz_world import _injury_application, injury_form

AXE = "/static/tongban/vendor/axe-core/axe.min.js"
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
VIEWPORTS = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1280, "height": 900}}
RUN_AXE = """async (tags) => {
  const r = await axe.run(document, {runOnly: {type: "tag", values: tags}, resultTypes: ["violations"]});
  return r.violations.map(v => v.id + " (" + v.impact + "): " + v.nodes.slice(0, 3).map(n => n.target.join(" ")).join(" | "));
}"""

# What sticks out on the right: the first few elements whose box ends beyond the viewport (for the failure message).
WIDE = """(width) => {
  const clipped = e => { for (let a = e.parentElement; a; a = a.parentElement) {
    if (["auto", "scroll", "hidden"].includes(getComputedStyle(a).overflowX)) { return true; } } return false; };
  return Array.from(document.querySelectorAll("body *"))
    .filter(e => e.getBoundingClientRect().right > width + 1 && !clipped(e) && !Array.from(e.children).some(
        c => c.getBoundingClientRect().right > width + 1))
    .slice(0, 4).map(e => e.tagName.toLowerCase() + (e.id ? "#" + e.id : "")
        + (e.className && e.className.baseVal === undefined ? "." + String(e.className).trim().split(/\\s+/).join(".")
           : "") + " (" + Math.round(e.getBoundingClientRect().right) + " px)");
}"""

# The header: how many rows the main menu takes, and the menu entries broken over two lines (e.g. 证照夹 on a phone).
HEADER = """() => {
  const row = document.querySelector(".mainnav > ul"), first = row.querySelector("a, summary");
  const rows = Math.round(row.getBoundingClientRect().height / first.getBoundingClientRect().height);
  const broken = Array.from(row.querySelectorAll(":scope > li > a, summary"))
    .filter(a => a.getBoundingClientRect().height > 1.9 * parseFloat(getComputedStyle(a).lineHeight) + 16)
    .map(a => a.textContent.trim());
  return {rows: rows, broken: broken};
}"""

# Elder mode: text smaller than 18 px (the selector of the element holding the text, and its size).
SMALL_TEXT = """() => Array.from(document.querySelectorAll("body *"))
  .filter(e => e.offsetParent !== null && Array.from(e.childNodes).some(n => n.nodeType === 3 && n.textContent.trim())
               && parseFloat(getComputedStyle(e).fontSize) < 18)
  .map(e => e.tagName.toLowerCase() + (e.className && e.className.baseVal === undefined
      ? "." + String(e.className).trim().split(/\\s+/).join(".") : "") + " " + getComputedStyle(e).fontSize)
  .filter((v, i, all) => all.indexOf(v) === i).slice(0, 6)"""

pytestmark = pytest.mark.browser




@pytest.fixture
def demo(transactional_db, settings):
    from tongban.workflow import engine

    settings.TONGBAN_WORKFLOW_INLINE = True
    engine.clear_caches()
    load_demo(Console(quiet=True))
    # The demo has no cases: 张三's 工伤认定 waiting at the window, and one accepted (容缺) in 人社局's review.
    zhang, clerk = Api("zhangsan", DEMO_PASSWORD), Api("clerk", DEMO_PASSWORD)
    refs = [_injury_application(zhang, upload_all=True)["ref"] for _ in range(2)]
    _injury_application(zhang, upload_all=False)  # a draft: the form page
    for ref in refs:
        assert zhang.post(f"/api/applications/{ref}/submit", {"form_data": injury_form()}).status_code == 200
    accepted = clerk.post(f"/api/window/applications/{refs[1]}/accept", {"tolerate": True, "supplement_days": 5})
    assert accepted.status_code == 200, accepted.content
    from tongban.applications.services.assistance import request_assistance
    request_assistance(name="李奶奶", phone="13912340000", service="养老金资格认证", centre_code="yx-zwzx")
    yield
    engine.clear_caches()


@dataclass
class Checker:
    """One browser context (its cookies: the session, elder mode) that checks pages in every mode and size."""

    browser: object
    base: str
    problems: list[str] = field(default_factory=list)
    checked: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.context = self.browser.new_context(locale="zh-CN")  # type: ignore[attr-defined]
        self.page = self.context.new_page()
        self.page.set_default_timeout(20000)

    def sign_in(self, username: str) -> None:
        self.context.clear_cookies()
        self.page.set_viewport_size(VIEWPORTS["desktop"])
        self.page.goto(f"{self.base}/accounts/login/")
        self.page.fill("#id_username", username)
        self.page.fill("#id_password", DEMO_PASSWORD)
        self.page.click("button[type=submit]")
        self.page.wait_for_url(re.compile(r"^(?!.*/accounts/login/)"))

    def link(self, path: str, pattern: str) -> str | None:
        self.page.goto(self.base + path)
        hrefs = self.page.eval_on_selector_all("a[href]", "els => els.map(e => e.getAttribute('href'))")
        return next((h for h in hrefs if re.fullmatch(pattern, h)), None)

    def elder(self, on: bool) -> None:
        if on:
            self.context.add_cookies([{"name": COOKIE, "value": "1", "url": self.base}])
        else:
            self.context.clear_cookies(name=COOKIE)

    def check(self, path: str) -> None:
        for elder in (False, True):
            self.elder(elder)
            for size, viewport in VIEWPORTS.items():
                where = f"{path} [{'elder' if elder else 'normal'}, {size}]"
                self.page.set_viewport_size(viewport)
                response = self.page.goto(self.base + path)
                assert response is not None and response.status == 200, (where, response and response.status)
                assert self.page.evaluate("document.documentElement.classList.contains('elder')") == elder, where
                self.page.add_script_tag(url=self.base + AXE)
                for violation in self.page.evaluate(RUN_AXE, TAGS):
                    self.problems.append(f"{where}: {violation}")
                shown = self.page.evaluate("Array.from(document.querySelectorAll('.elder-hide'))"
                                           ".filter(e => e.offsetParent !== null).length")
                if elder and shown:
                    self.problems.append(f"{where}: {shown} secondary elements (.elder-hide) shown in elder mode")
                if elder and (small := self.page.evaluate(SMALL_TEXT)):
                    self.problems.append(f"{where}: text under 18 px in elder mode: {small}")
                header = self.page.evaluate(HEADER)
                if header["broken"]:
                    self.problems.append(f"{where}: menu entries broken over two lines: {header['broken']}")
                if size == "desktop" and not elder and header["rows"] > 1:
                    self.problems.append(f"{where}: the main menu takes {header['rows']} rows at 1280 px")
                if os.environ.get("TONGBAN_A11Y_SHOTS"):
                    name = re.sub(r"\W+", "-", where).strip("-")
                    self.page.screenshot(path=f"/tmp/a11y-{name}.png", full_page=True)
                if size == "phone":
                    width = self.page.evaluate("document.documentElement.scrollWidth")
                    if width > viewport["width"]:
                        wide = ", ".join(self.page.evaluate(WIDE, viewport["width"]))
                        self.problems.append(f"{where}: the page is {width} px wide on a {viewport['width']} px "
                                             f"screen: {wide}")
                self.checked.append(where)
        self.elder(False)


def test_every_page_kind_meets_wcag_21_aa_in_both_modes_on_phone_and_desktop(demo, live_server, chromium):
    c = Checker(chromium, live_server.url)

    # the public: catalogue, an item, the login page, 帮办预约
    c.check("/")
    c.check("/catalog/")
    item = c.link("/catalog/", r"/catalog/items/[^/]+/")
    assert item is not None
    c.check(item)
    c.check("/accounts/login/")
    c.check("/assist/")
    for path in ("/catalog/bundles/", "/lists/", "/feedback/stats/", "/enforcement/public/", "/insight/",
                 "/notices/verify/", "/verify/"):
        c.check(path)

    # an applicant: my cases, one case, apply (a bundle's guide), licences, my data
    c.sign_in("zhangsan")
    c.check("/my/")
    case = c.link("/my/", r"/my/applications/[^/]+/")
    assert case is not None, "张三 has no application in the demo"
    c.check(case)
    c.check("/apply/")
    bundle = c.link("/apply/", r"/apply/bundle/[^/?]+/")
    assert bundle is not None
    c.check(bundle)
    c.check("/credentials/wallet/")
    c.check("/exchange/my-data/")
    c.check("/messages/")
    c.check("/my/proxies/")
    c.check("/feedback/orders/")
    draft = c.link("/my/", r"/my/applications/[^/]+/")
    fill = c.link(draft, r"/my/applications/[^/]+/fill/") if draft else None
    assert fill is not None, "no draft to fill"
    c.check(fill)

    # the window: the queue, a case at the window, the 帮办预约 list
    c.sign_in("clerk")
    c.check("/window/")
    waiting = c.link("/window/", r"/window/applications/[^/]+/")
    assert waiting is not None
    c.check(waiting)
    c.check("/window/assistance/")
    c.check("/window/assist/")

    # an approver: the workbench and a task
    c.sign_in("approver-rsj")
    c.check("/workbench/")
    task = c.link("/workbench/", r"/workbench/tasks/\d+/")
    assert task is not None
    c.check(task)

    # staff dashboards (the admin holds every role: the long 工作台 menu)
    c.sign_in("admin")
    c.check("/insight/staff/")
    c.check("/supervision/")
    c.check("/workflow/definitions/")
    c.check("/exchange/grants/")
    c.check("/enforcement/cases/")
    c.check("/feedback/department/")
    c.context.close()

    assert len(c.checked) >= 4 * 34
    assert c.problems == [], "\n".join(c.problems)

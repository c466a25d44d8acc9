"""Plain Chinese on every page (issue 16, item 1).

Loads the demo city, signs in as every demo account (and as nobody), follows every link a page offers inside the
site and reads the text a person sees. A page fails when its visible text shows:

- a snake_case identifier (``resident_id_card``, ``accepted``-style codes joined by underscores),
- a dotted result code (``credentials.valid``),
- a bare organisation code (``yx-ga``) instead of the organisation's name,
- an ISO timestamp (``2026-12-04T16:28``): pages show local time as ``2026-12-04 16:28``.

Text inside ``<code>``, ``<kbd>``, ``<samp>`` and ``<pre>`` is deliberately technical (an API path, a command to
type) and is not read; so are attribute values, scripts and styles. The back office (``/admin/``), the API and file
downloads are not pages of the portal.
"""

from __future__ import annotations

import re
from collections import defaultdict
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest
from django.test import Client
from django.urls import Resolver404, resolve
from rich.console import Console

from tongban.core.models import Organisation, User
from tongban.demo import load_demo

SNAKE = re.compile(r"(?<![\w./-])[a-z][a-z0-9]*(?:_[a-z0-9]+)+(?![\w-])")
DOTTED_CODE = re.compile(r"(?<![\w./-])[a-z]+(?:\.[a-z_]+)+(?![\w/-])")
WORD = re.compile(r"(?<![\w./@:-])[a-z]{3,}(?![\w@.:/-])")
ALLOWED_WORDS = {"tongban"}
ISO_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")
SKIP_PREFIXES = ("/admin/", "/api/", "/static/", "/media/", "/accounts/logout", "/i18n/")
SKIP_SUFFIXES = (".pdf", ".json", ".xlsx", ".csv", ".png", ".zip", ".xml", ".bpmn", ".dmn", ".jsonld", "/file",
                 "/letter/", "/download/", ".svg", ".txt")
TECHNICAL = {"code", "kbd", "samp", "pre", "script", "style", "template", "textarea"}
MAX_PER_ROUTE = 2  # pages of the same kind (the same URL pattern) visited per account


class VisibleText(HTMLParser):
    """The text a person sees, and the site-internal links of a page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.depth = 0
        self.chunks: list[str] = []
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in TECHNICAL:
            self.depth += 1
        if tag == "a":
            href = dict(attrs).get("href") or ""
            if href.startswith("/") and not href.startswith("//"):
                self.links.append(href)
        if tag == "option":
            self.chunks.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in TECHNICAL and self.depth:
            self.depth -= 1

    def handle_data(self, data: str) -> None:
        if not self.depth:
            self.chunks.append(data)

    @property
    def text(self) -> str:
        return " ".join(" ".join(self.chunks).split())


def findings(text: str, org_codes: set[str]) -> list[str]:
    found = [f"snake_case «{m}»" for m in SNAKE.findall(text)]
    found += [f"code «{m}»" for m in DOTTED_CODE.findall(text) if not m.startswith("www.")
              and m.rsplit(".", 1)[-1] not in {"cn", "com", "org", "net", "pdf", "json", "html"}]
    found += [f"English word «{m}»" for m in WORD.findall(text) if m not in ALLOWED_WORDS]
    found += [f"UTC/ISO time «{m}»" for m in ISO_TIME.findall(text)]
    for token in re.findall(r"(?<![\w.-])[a-z]+(?:-[a-z0-9]+)+(?![\w-])", text):
        if token in org_codes:
            found.append(f"organisation code «{token}»")
    return found


def crawl(client: Client, org_codes: set[str]) -> tuple[dict[str, list[str]], int]:
    """Visit every page reachable from the home page; answer {path: findings} and the number of pages read."""
    seen: set[str] = set()
    per_route: dict[str, int] = defaultdict(int)
    queue = ["/", "/accounts/login/"]
    problems: dict[str, list[str]] = {}
    read = 0
    while queue:
        path = queue.pop(0)
        path = path.split("#")[0]
        if not path or path in seen:
            continue
        seen.add(path)
        base = urlsplit(path).path
        if base.startswith(SKIP_PREFIXES) or base.endswith(SKIP_SUFFIXES):
            continue
        try:
            route = resolve(base).route
        except Resolver404:
            continue
        if per_route[route] >= MAX_PER_ROUTE:
            continue
        per_route[route] += 1
        response = client.get(path)
        if response.status_code != 200 or not response.get("Content-Type", "").startswith("text/html"):
            continue
        read += 1
        parser = VisibleText()
        parser.feed(response.content.decode())
        found = findings(parser.text, org_codes)
        if found:
            problems[path] = sorted(set(found))
        queue.extend(link for link in parser.links if link not in seen)
    return problems, read


@pytest.fixture
def demo_city(db, settings):
    settings.TONGBAN_WORKFLOW_INLINE = True
    load_demo(Console(quiet=True))


def test_findings_catch_codes_and_utc():
    codes = {"yx-ga"}
    assert "organisation code «yx-ga»" in findings("来自 yx-ga，2026-12-04T16:28", codes)
    assert "UTC/ISO time «2026-12-04T16:28»" in findings("来自 yx-ga，2026-12-04T16:28", codes)
    assert findings("结果代码：credentials.valid", codes) == ["code «credentials.valid»"]
    assert findings("字段 sex、birth_date、resident_id_card", codes) == [
        "snake_case «birth_date»", "snake_case «resident_id_card»", "English word «sex»"]
    assert findings("流程记录 accepted → review，操作人 system", codes) == [
        "English word «accepted»", "English word «review»", "English word «system»"]
    assert findings("云溪市公安局 2026-12-05 00:28 张三 www.example.gov.cn", codes) == []


def test_every_page_of_the_demo_speaks_plain_chinese(demo_city):
    org_codes = set(Organisation.objects.values_list("code", flat=True))
    accounts: list[User | None] = [None, *User.objects.filter(is_active=True).order_by("username")]
    report: dict[str, set[str]] = defaultdict(set)  # finding → "account path" where it shows
    total = 0
    for user in accounts:
        client = Client()
        if user is not None:
            client.force_login(user)
        problems, read = crawl(client, org_codes)
        total += read
        for path, found in problems.items():
            for finding in found:
                report[finding].add(f"{user.username if user else '(anonymous)'} {path}")
    assert total > 100
    summary = "\n".join(f"{finding}: {len(where)} pages, e.g. {sorted(where)[:3]}"
                        for finding, where in sorted(report.items()))
    assert not report, "pages show codes, English or UTC:\n" + summary

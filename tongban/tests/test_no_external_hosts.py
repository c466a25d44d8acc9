"""No CDN anywhere: the demo's pages (crawled as the public and as staff and citizens) and every static file they
load refer to no other host; ``/api/docs`` loads the vendored Swagger UI. Government networks are often closed:
a page that needs the internet is a blank page there."""

from __future__ import annotations

import re
from collections import deque
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import pytest
from django.test import Client
from rich.console import Console

from tongban.core import site
from tongban.core.models import User
from tongban.demo import load_demo

# attributes that make a browser load something or send the person somewhere
URL_ATTRIBUTES = {"src", "href", "action", "srcset", "poster", "data", "formaction", "background"}
# hosts whose appearance in a script means it loads from a CDN or a font/analytics service
CDN_HOSTS = re.compile(r"(cdn\.jsdelivr\.net|unpkg\.com|cdnjs\.cloudflare\.com|fonts\.googleapis\.com|"
                       r"fonts\.gstatic\.com|code\.jquery\.com|ajax\.googleapis\.com|bootcdn|staticfile\.org|"
                       r"googletagmanager|google-analytics|cdn\.bootcss|cdn\.redoc\.ly)")
CSS_URL = re.compile(r"""url\(\s*['"]?([^'")]+)|@import\s+['"]([^'"]+)""")
SKIP = ("/accounts/logout/", "/i18n/", "/media/", "/admin/logout/")
MAX_PAGES = 80


class _Refs(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.refs: list[tuple[str, str, str]] = []  # (tag, attribute, value)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in URL_ATTRIBUTES and value:
                values = [v.strip().split(" ")[0] for v in value.split(",")] if name == "srcset" else [value]
                self.refs += [(tag, name, v) for v in values]


def _external(url: str, own: set[str]) -> bool:
    parts = urlsplit(url)
    if parts.scheme in ("data", "mailto", "tel", "javascript", "blob") or url.startswith("#"):
        return False
    return bool(parts.netloc) and parts.netloc not in own


@pytest.fixture
def demo(db, settings):
    settings.TONGBAN_WORKFLOW_INLINE = True
    load_demo(Console(quiet=True))


def _crawl(client: Client, start: list[str], own: set[str], problems: list[str], assets: set[str]) -> int:
    seen: set[str] = set()
    queue = deque(start)
    while queue and len(seen) < MAX_PAGES:
        path = queue.popleft()
        if path in seen or path.startswith(SKIP):
            continue
        seen.add(path)
        response = client.get(path)
        if response.status_code != 200 or "text/html" not in response.get("Content-Type", ""):
            continue
        parser = _Refs()
        parser.feed(response.content.decode())
        for tag, attribute, value in parser.refs:
            if _external(value, own):
                problems.append(f"{path}: <{tag} {attribute}={value!r}>")
                continue
            target = urlsplit(urljoin(path, value))
            if target.netloc and target.netloc not in own:
                continue
            if target.path.startswith("/static/") or tag in ("script", "img", "iframe") or (
                    tag == "link" and attribute == "href"):
                assets.add(target.path)
            elif tag == "a" and attribute == "href" and target.path.startswith("/") and not target.query:
                queue.append(target.path)
    return len(seen)


def test_no_page_or_asset_refers_to_another_host(demo, settings):
    own = {"testserver", urlsplit(site.public_url()).netloc}
    problems: list[str] = []
    assets: set[str] = set()
    pages = _crawl(Client(), ["/", "/api/docs", "/accounts/login/", "/catalog/", "/lists/"], own, problems, assets)
    for username in ("zhangsan", "clerk", "approver-scjg", "supervisor", "hotline", "admin"):
        client = Client()
        client.force_login(User.objects.get(username=username))
        pages += _crawl(client, ["/", "/admin/"], own, problems, assets)
    assert pages > 40, pages  # the crawl really went through the site

    public = Client()
    checked = 0
    for path in sorted(assets):
        response = public.get(path)
        if response.status_code != 200:
            continue
        body = b"".join(response.streaming_content) if response.streaming else response.content
        text = body.decode("utf-8", "replace")
        checked += 1
        if path.endswith(".css") or "text/css" in response.get("Content-Type", ""):
            for match in CSS_URL.finditer(text):
                ref = match.group(1) or match.group(2)
                if _external(ref.strip(), own):
                    problems.append(f"{path}: url({ref})")
        elif path.endswith(".js"):
            problems += [f"{path}: loads from {m.group(0)}" for m in CDN_HOSTS.finditer(text)]
    assert checked >= 5 and "/static/core/vendor/swagger-ui/swagger-ui-bundle.js" in assets, sorted(assets)
    assert not problems, "\n".join(problems)


def test_api_docs_render_from_vendored_files_without_the_validator(db):
    page = Client().get("/api/docs")
    html = page.content.decode()
    assert page.status_code == 200
    assert "/static/core/vendor/swagger-ui/swagger-ui-bundle.js" in html
    assert "/static/core/vendor/swagger-ui/swagger-ui.css" in html
    assert '"validatorUrl": null' in html  # Swagger UI would otherwise call validator.swagger.io
    for path in ("/static/core/vendor/swagger-ui/swagger-ui-bundle.js", "/static/core/api-docs.js",
                 "/static/core/vendor/swagger-ui/swagger-ui.css"):
        assert Client().get(path).status_code == 200, path

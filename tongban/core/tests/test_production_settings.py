"""Production settings from the environment (issue 17, item 3): ``TONGBAN_HTTPS=1`` passes ``check --deploy``
without a single warning; Secure cookies, HSTS, the SSL redirect behind a proxy header, the session lifetime and
the Content-Security-Policy work as configured; bad values are refused with a clear message."""

from __future__ import annotations

import json
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import Client

ROOT = Path(__file__).resolve().parents[3]  # the checkout (pyproject.toml)
PACKAGE = ROOT / "tongban"
SETTINGS_DUMP = """
import json, tongban.settings as s
names = ["DEBUG", "SESSION_COOKIE_AGE", "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE", "SECURE_SSL_REDIRECT",
         "SECURE_HSTS_SECONDS", "SECURE_HSTS_INCLUDE_SUBDOMAINS", "SECURE_HSTS_PRELOAD", "SECURE_PROXY_SSL_HEADER",
         "CSRF_TRUSTED_ORIGINS", "AXES_FAILURE_LIMIT", "TONGBAN_LOGIN_ADDRESS_FAILURE_LIMIT", "TONGBAN_PROXY_COUNT"]
values = {n: getattr(s, n, None) for n in names}
values["AXES_COOLOFF_SECONDS"] = s.AXES_COOLOFF_TIME.total_seconds()
print(json.dumps(values))
"""


def _env(tmp_path: Path, **values: str) -> dict[str, str]:
    """The process environment without any TONGBAN_ setting of this machine, plus ``values``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TONGBAN_", "DJANGO_"))}
    env.update({"TONGBAN_HOME": str(tmp_path / "home"), "DJANGO_SETTINGS_MODULE": "tongban.settings"}, **values)
    return env


def production(tmp_path: Path, **values: str) -> dict[str, str]:
    return _env(tmp_path, TONGBAN_HTTPS="1", TONGBAN_DEBUG="0", TONGBAN_SECRET_KEY=secrets.token_urlsafe(64),
                TONGBAN_ALLOWED_HOSTS="zwfw.yunxi.example.gov.cn", **values)


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args], env=env, cwd=ROOT, capture_output=True, text=True, timeout=120)


def settings_under(env: dict[str, str]) -> dict:
    done = run(["-c", SETTINGS_DUMP], env)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_check_deploy_with_production_settings_reports_nothing(tmp_path):
    done = run(["-m", "django", "check", "--deploy", "--fail-level", "DEBUG"], production(tmp_path))
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert "System check identified no issues (0 silenced)." in output
    assert "WARNING" not in output and "security.W" not in output


def test_check_deploy_without_https_names_what_is_missing(tmp_path):
    """The same check fails without TONGBAN_HTTPS: the test above could not pass by accident."""
    env = production(tmp_path)
    del env["TONGBAN_HTTPS"]
    done = run(["-m", "django", "check", "--deploy", "--fail-level", "WARNING"], env)
    output = done.stdout + done.stderr
    assert done.returncode != 0
    for warning in ("security.W004", "security.W008", "security.W012", "security.W016"):
        assert warning in output


def test_https_turns_on_secure_cookies_hsts_redirect_and_the_proxy_header(tmp_path):
    values = settings_under(production(tmp_path))
    assert values["SESSION_COOKIE_SECURE"] is True and values["CSRF_COOKIE_SECURE"] is True
    assert values["SECURE_SSL_REDIRECT"] is True
    assert values["SECURE_HSTS_SECONDS"] == 365 * 24 * 3600
    assert values["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is True and values["SECURE_HSTS_PRELOAD"] is True
    assert values["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert values["SESSION_COOKIE_AGE"] == 8 * 3600  # one working day
    assert values["DEBUG"] is False

    tuned = settings_under(production(
        tmp_path, TONGBAN_HSTS_SECONDS="600", TONGBAN_HSTS_PRELOAD="0", TONGBAN_PROXY_SSL_HEADER="X-Forwarded-Ssl=on",
        TONGBAN_SESSION_SECONDS="1800", TONGBAN_CSRF_TRUSTED_ORIGINS="https://zwfw.yunxi.example.gov.cn",
        TONGBAN_LOGIN_FAILURE_LIMIT="5", TONGBAN_LOGIN_ADDRESS_FAILURE_LIMIT="30", TONGBAN_LOGIN_COOLOFF_MINUTES="60",
        TONGBAN_PROXY_COUNT="1"))
    assert tuned["SECURE_HSTS_SECONDS"] == 600 and tuned["SECURE_HSTS_PRELOAD"] is False
    assert tuned["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_SSL", "on"]
    assert tuned["SESSION_COOKIE_AGE"] == 1800
    assert tuned["CSRF_TRUSTED_ORIGINS"] == ["https://zwfw.yunxi.example.gov.cn"]
    assert tuned["AXES_FAILURE_LIMIT"] == 5 and tuned["TONGBAN_LOGIN_ADDRESS_FAILURE_LIMIT"] == 30
    assert tuned["AXES_COOLOFF_SECONDS"] == 3600 and tuned["TONGBAN_PROXY_COUNT"] == 1

    direct = settings_under(production(tmp_path, TONGBAN_PROXY_SSL_HEADER="off"))  # TLS ends at this server
    assert direct["SECURE_PROXY_SSL_HEADER"] is None


def test_plain_http_by_default(tmp_path):
    values = settings_under(_env(tmp_path))
    assert values["SESSION_COOKIE_SECURE"] is False and values["SECURE_SSL_REDIRECT"] is None
    assert values["SECURE_HSTS_SECONDS"] is None
    assert values["SESSION_COOKIE_AGE"] == 8 * 3600


@pytest.mark.parametrize(("name", "value", "says"), [
    ("TONGBAN_SESSION_SECONDS", "eight hours", "TONGBAN_SESSION_SECONDS must be a whole number"),
    ("TONGBAN_SESSION_SECONDS", "10", "TONGBAN_SESSION_SECONDS must be at least 60"),
    ("TONGBAN_LOGIN_FAILURE_LIMIT", "0", "TONGBAN_LOGIN_FAILURE_LIMIT must be at least 1"),
])
def test_bad_numbers_are_refused_with_a_clear_message(monkeypatch, name, value, says):
    from tongban import settings as module

    monkeypatch.setenv(name, value)
    minimum = {"TONGBAN_SESSION_SECONDS": 60, "TONGBAN_LOGIN_FAILURE_LIMIT": 1}[name]
    with pytest.raises(ImproperlyConfigured, match=says):
        module._env_int(name, 8, minimum=minimum)


def test_a_bad_proxy_header_is_refused_and_the_process_does_not_start(tmp_path):
    from tongban import settings as module

    with pytest.raises(ImproperlyConfigured, match="must look like X-Forwarded-Proto=https"):
        module._proxy_ssl_header("X-Forwarded-Proto")
    done = run(["-c", SETTINGS_DUMP], production(tmp_path, TONGBAN_SESSION_SECONDS="eight hours"))
    assert done.returncode != 0 and "TONGBAN_SESSION_SECONDS must be a whole number" in done.stderr


# --- the same settings at work (applied in this process from the values the environment produced) ------------

@pytest.fixture
def https_settings(tmp_path, settings):
    values = settings_under(production(tmp_path))
    for name in ("SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE", "SECURE_SSL_REDIRECT", "SECURE_HSTS_SECONDS",
                 "SECURE_HSTS_INCLUDE_SUBDOMAINS", "SECURE_HSTS_PRELOAD"):
        setattr(settings, name, values[name])
    settings.SECURE_PROXY_SSL_HEADER = tuple(values["SECURE_PROXY_SSL_HEADER"])
    return settings


@pytest.mark.django_db
def test_behind_the_proxy_http_is_redirected_and_https_gets_hsts_and_secure_cookies(https_settings, demo_core):
    client = Client()
    plain = client.get("/accounts/login/")
    assert plain.status_code == 301 and plain["Location"] == "https://testserver/accounts/login/"

    proxied = {"HTTP_X_FORWARDED_PROTO": "https"}
    page = client.get("/accounts/login/", **proxied)
    assert page.status_code == 200
    assert page["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
    assert page.cookies["csrftoken"]["secure"] is True
    token = page.cookies["csrftoken"].value
    signed_in = client.post("/accounts/login/", {"username": "zhangsan", "password": "tongban-demo",
                                                 "csrfmiddlewaretoken": token},
                            HTTP_REFERER="https://testserver/accounts/login/", **proxied)
    assert signed_in.status_code == 302
    session = signed_in.cookies["sessionid"]
    assert session["secure"] is True and session["httponly"] is True
    assert int(session["max-age"]) == 8 * 3600


@pytest.mark.django_db
def test_every_page_carries_the_content_security_policy(demo_core):
    response = Client().get("/accounts/login/")
    policy = response["Content-Security-Policy"]
    directives = dict((d.split(" ", 1) + [""])[:2] for d in policy.split("; "))
    assert directives["script-src"].split() == ["'self'"]  # no nonce unless a page uses one; never unsafe-inline
    assert "unsafe" not in policy
    assert directives["default-src"] == "'self'" and directives["object-src"] == "'none'"
    assert directives["frame-ancestors"] == "'none'" and directives["base-uri"] == "'self'"
    assert response["X-Frame-Options"] == "DENY" and response["X-Content-Type-Options"] == "nosniff"


@pytest.mark.django_db
def test_the_api_docs_use_the_vendored_swagger_ui():
    page = Client().get("/api/docs").content.decode()
    assert "/static/core/vendor/swagger-ui/swagger-ui-bundle.js" in page  # vendored, tests/test_no_external_hosts.py
    assert not re.search(r"(src|href)=\"https?://", page)


INLINE_SCRIPT = re.compile(r"<script(?![^>]*\b(src|nonce)=)(?![^>]*type=\"application/(ld\+)?json\")[^>]*>", re.I)
INLINE_HANDLER = re.compile(r"<[^>]+\son[a-z]+\s*=", re.I)
INLINE_STYLE = re.compile(r"<style(?![^>]*\bnonce=)|\sstyle\s*=\s*[\"']", re.I)
EXTERNAL = re.compile(r"(src|href)\s*=\s*[\"'](https?:)?//", re.I)


def test_no_template_has_inline_script_handler_style_or_outside_asset():
    """What the policy would block, found before a browser does: every template of every context."""
    found = []
    for template in sorted(PACKAGE.glob("**/templates/**/*.html")):
        text = template.read_text()
        for pattern in (INLINE_SCRIPT, INLINE_HANDLER, INLINE_STYLE, EXTERNAL):
            found += [f"{template.relative_to(PACKAGE)}: {m.group(0)}" for m in pattern.finditer(text)]
    assert found == []
    assert INLINE_HANDLER.search('<select onchange="this.form.submit()">')  # the patterns do find what they seek
    assert INLINE_SCRIPT.search("<script>alert(1)</script>") and not INLINE_SCRIPT.search('<script src="/a.js">')

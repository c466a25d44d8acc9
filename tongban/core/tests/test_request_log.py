"""A refused request is ONE line in the server log (method, path, status, user); a 500 keeps its traceback
(issue 17, item 6)."""

from __future__ import annotations

import logging

import pytest
from django.test import Client

from tongban.core.demo import DEMO_PASSWORD

pytestmark = pytest.mark.django_db


def _request_lines(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "django.request"]


@pytest.mark.urls("tongban.core.tests.refusal_urls")
@pytest.mark.parametrize(("path", "status", "phrase"), [
    ("/forbidden/", 403, "Forbidden"), ("/missing/", 404, "Not Found"), ("/unauthorised/", 401, "Unauthorized")])
def test_a_refused_request_is_one_line_without_traceback(caplog, path, status, phrase):
    with caplog.at_level(logging.WARNING, logger="django.request"):
        assert Client().get(path + "?q=secret").status_code == status
    [line] = _request_lines(caplog)
    assert line == f"GET {path} {status} {phrase} user=anonymous"
    assert "Traceback" not in caplog.text and "\n" not in line
    assert "secret" not in line  # the query string (it may carry personal data) is not logged


@pytest.mark.urls("tongban.core.tests.refusal_urls")
def test_a_server_error_keeps_its_traceback(caplog):
    with caplog.at_level(logging.WARNING, logger="django.request"):
        assert Client(raise_request_exception=False).get("/broken/").status_code == 500
    [record] = [r for r in caplog.records if r.name == "django.request"]
    assert record.exc_info is not None
    assert "Traceback" in caplog.text and "RuntimeError: boom: a real fault" in caplog.text


def test_a_staff_only_page_refused_to_a_citizen_names_the_user(caplog, demo_core):
    client = Client()
    assert client.login(username="zhangsan", password=DEMO_PASSWORD)
    with caplog.at_level(logging.WARNING, logger="django.request"):
        assert client.get("/workflow/tasks/").status_code == 403
    assert _request_lines(caplog) == ["GET /workflow/tasks/ 403 Forbidden user=zhangsan"]
    assert "Traceback" not in caplog.text


def test_a_refused_api_call_is_one_line_too(caplog, demo_core):
    with caplog.at_level(logging.WARNING, logger="django.request"):
        assert Client().get("/api/me").status_code == 401
        assert Client().post("/api/auth/token", {"username": "zhangsan", "password": "wrong"},
                             content_type="application/json").status_code == 401
    assert _request_lines(caplog) == ["GET /api/me 401 Unauthorized user=anonymous",
                                      "POST /api/auth/token 401 Unauthorized user=anonymous"]


@pytest.mark.urls("tongban.core.tests.refusal_urls")
def test_control_characters_in_the_path_do_not_forge_log_lines(caplog):
    with caplog.at_level(logging.WARNING, logger="django.request"):
        Client().get("/forbidden/%0aFAKE 200 OK")
    [line] = _request_lines(caplog)
    assert "\n" not in line and "\\n" in line

"""Login protection (issue 17, item 2): throttling and temporary lockout per account and per address on the
login form and on ``POST /api/auth/token``, an audited admin unlock, and the client address behind proxies."""

from __future__ import annotations

import base64
import io
from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.test import Client, RequestFactory

from tongban.core.demo import DEMO_PASSWORD
from tongban.core.login_protection import client_ip
from tongban.core.models import AuditLog

pytestmark = pytest.mark.django_db
WRONG = "not-the-password"


def token(client: Client, username: str, password: str, **extra):
    return client.post("/api/auth/token", {"username": username, "password": password},
                       content_type="application/json", **extra)


def form_login(client: Client, username: str, password: str, **extra):
    return client.post("/accounts/login/", {"username": username, "password": password}, **extra)


def cool_off_passes(settings) -> None:
    """Move every failed attempt back beyond the cool-off window (as if the lockout time had passed)."""
    AccessAttempt.objects.update(attempt_time=AccessAttempt.objects.values("attempt_time")[:1].get()["attempt_time"]
                                 - settings.AXES_COOLOFF_TIME - timedelta(minutes=1))


def test_twenty_wrong_passwords_lock_the_account_on_the_token_endpoint_until_the_lockout_ends(demo_core, settings):
    client = Client()
    statuses = [token(client, "zhangsan", WRONG).status_code for _ in range(20)]
    limit = settings.TONGBAN_LOGIN_FAILURE_LIMIT
    assert limit <= 20
    assert statuses[:limit - 1] == [401] * (limit - 1)
    assert statuses[limit - 1:] == [429] * (21 - limit)

    # even the right password is refused while the lockout lasts, with the API's usual error body
    locked = token(client, "zhangsan", DEMO_PASSWORD)
    assert locked.status_code == 429
    body = locked.json()
    assert body["code"] == "auth.locked" and "分钟后再试" in body["message"]
    assert int(locked["Retry-After"]) == settings.TONGBAN_LOGIN_COOLOFF_MINUTES * 60
    assert "token" not in body

    # the lockout is per account: another account signs in from the same address
    assert token(client, "lisi", DEMO_PASSWORD).status_code == 200

    # one audit record for the lockout (not one per refused attempt)
    lockouts = AuditLog.objects.filter(action="auth.lockout")
    assert lockouts.count() == 1
    record = lockouts.get()
    assert record.object_id == "zhangsan" and record.detail["scope"] == "account"
    assert record.detail["account_failures"] == limit and record.ip == "127.0.0.1"

    # when the cool-off time has passed, the right password works again
    cool_off_passes(settings)
    ok = token(client, "zhangsan", DEMO_PASSWORD)
    assert ok.status_code == 200, ok.content
    assert ok.json()["token"]


def test_the_login_form_locks_too_and_the_right_password_does_not_sign_in(demo_core, settings):
    settings.AXES_FAILURE_LIMIT = 3
    client = Client()
    first = form_login(client, "zhangsan", WRONG)
    assert first.status_code == 200 and "用户名或密码不正确" in first.content.decode()
    form_login(client, "zhangsan", WRONG)
    third = form_login(client, "zhangsan", WRONG)
    assert third.status_code == 429 and "登录已暂时锁定" in third.content.decode()

    locked = form_login(client, "zhangsan", DEMO_PASSWORD)
    assert locked.status_code == 429
    assert "登录已暂时锁定" in locked.content.decode()
    assert "_auth_user_id" not in client.session
    assert client.get("/api/me").status_code == 401

    # failures on the form count for the API as well: one account, one lockout
    assert token(Client(), "zhangsan", DEMO_PASSWORD).status_code == 429


def test_many_accounts_failing_from_one_address_lock_the_address(demo_core, settings):
    settings.TONGBAN_LOGIN_ADDRESS_FAILURE_LIMIT = 4
    client = Client()
    for name in ("clerk", "lisi", "nobody-1", "nobody-2"):  # one failure per account: no account is locked
        token(client, name, WRONG)
    assert AuditLog.objects.filter(action="auth.lockout", detail__scope="address").count() == 1

    refused = token(client, "zhangsan", DEMO_PASSWORD)  # a fresh account, the right password, the same address
    assert refused.status_code == 429 and refused.json()["code"] == "auth.locked"
    elsewhere = token(Client(), "zhangsan", DEMO_PASSWORD, REMOTE_ADDR="198.51.100.7")
    assert elsewhere.status_code == 200


def test_the_address_limit_is_its_own_and_normal_use_never_locks(demo_core, settings):
    """Right passwords never count; a few typos from a shared address stay far from the address limit."""
    client = Client()
    for _ in range(30):
        assert token(client, "zhangsan", DEMO_PASSWORD).status_code == 200
    for name in ("clerk", "lisi", "zhangsan"):
        assert token(client, name, WRONG).status_code == 401
        assert token(client, name, DEMO_PASSWORD).status_code == 200
    assert not AuditLog.objects.filter(action="auth.lockout").exists()


def test_http_basic_callers_of_the_credentials_api_are_locked_out_too(demo_core, settings):
    settings.AXES_FAILURE_LIMIT = 2
    client = Client()

    def basic(password: str):
        header = "Basic " + base64.b64encode(f"zhangsan:{password}".encode()).decode()
        return client.get("/api/credentials/wallet", headers={"Authorization": header})

    assert basic(DEMO_PASSWORD).status_code == 200
    assert basic(WRONG).status_code == 401
    assert basic(WRONG).status_code == 429
    locked = basic(DEMO_PASSWORD)
    assert locked.status_code == 429 and locked.json()["code"] == "auth.locked"


def test_an_administrator_unlocks_an_account_and_the_unlock_is_audited(demo_core, settings):
    settings.AXES_FAILURE_LIMIT = 2
    client = Client()
    token(client, "zhangsan", WRONG)
    token(client, "zhangsan", WRONG)
    assert token(client, "zhangsan", DEMO_PASSWORD).status_code == 429

    from tongban.core.models import User

    admin = Client()
    admin.force_login(User.objects.get(username="admin"))
    user = User.objects.get(username="zhangsan")
    r = admin.post("/admin/core/user/", {"action": "unlock_login", "_selected_action": [user.pk]}, follow=True)
    assert r.status_code == 200 and "已解除登录锁定：zhangsan" in r.content.decode()

    assert token(client, "zhangsan", DEMO_PASSWORD).status_code == 200
    unlock = AuditLog.objects.get(action="auth.unlock")
    assert unlock.actor.username == "admin" and unlock.object_id == "zhangsan"
    assert unlock.detail["attempt_records_removed"] >= 1


def test_the_admin_lists_failed_attempts_and_unlocks_an_address(demo_core, settings):
    settings.TONGBAN_LOGIN_ADDRESS_FAILURE_LIMIT = 2
    client = Client()
    token(client, "nobody-1", WRONG)
    token(client, "nobody-2", WRONG)
    assert token(client, "zhangsan", DEMO_PASSWORD).status_code == 429

    from tongban.core.models import User

    admin = Client()
    admin.force_login(User.objects.get(username="admin"))
    page = admin.get("/admin/axes/accessattempt/")
    assert page.status_code == 200 and "nobody-1" in page.content.decode()
    ids = list(AccessAttempt.objects.values_list("pk", flat=True)[:1])
    r = admin.post("/admin/axes/accessattempt/", {"action": "unlock_addresses", "_selected_action": ids},
                   follow=True)
    assert "已解除登录锁定：127.0.0.1" in r.content.decode()
    assert not AccessAttempt.objects.exists()
    assert token(client, "zhangsan", DEMO_PASSWORD).status_code == 200
    assert AuditLog.objects.filter(action="auth.unlock", object_id="127.0.0.1", actor__username="admin").exists()


def test_non_staff_cannot_reach_the_unlock(demo_core):
    from tongban.core.models import User

    citizen = Client()
    citizen.force_login(User.objects.get(username="zhangsan"))
    r = citizen.post("/admin/axes/accessattempt/", {"action": "unlock_addresses", "_selected_action": [1]})
    assert r.status_code == 302 and "/admin/login/" in r["Location"]


def test_client_address_behind_reverse_proxies(settings):
    rf = RequestFactory()
    request = rf.get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.9")
    settings.TONGBAN_PROXY_COUNT = 0
    assert client_ip(request) == "10.0.0.2"  # no proxy configured: the header is the client's, not trusted
    settings.TONGBAN_PROXY_COUNT = 1
    assert client_ip(request) == "203.0.113.9"  # the address our proxy saw, not the one the client wrote
    settings.TONGBAN_PROXY_COUNT = 2
    assert client_ip(request) == "6.6.6.6"
    bad = rf.get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="not-an-address")
    settings.TONGBAN_PROXY_COUNT = 1
    assert client_ip(bad) == "10.0.0.2"


def test_the_axes_reset_commands_are_audited_too(demo_core, settings):
    from django.core.management import call_command

    settings.AXES_FAILURE_LIMIT = 2
    client = Client()
    token(client, "zhangsan", WRONG)
    token(client, "zhangsan", WRONG)
    assert token(client, "zhangsan", DEMO_PASSWORD).status_code == 429
    call_command("axes_reset_username", "zhangsan", stdout=io.StringIO())
    assert token(client, "zhangsan", DEMO_PASSWORD).status_code == 200
    record = AuditLog.objects.get(action="auth.unlock")
    assert record.object_id == "zhangsan" and record.actor is None and "axes_reset" in record.reason

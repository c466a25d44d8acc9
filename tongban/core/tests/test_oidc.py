"""统一身份认证: sign-in through a real OpenID Connect provider (django-oauth-toolkit in a second Django process,
started here on a free port): authorisation code + PKCE, the ID token checked against the provider's keys, the
claims filling ``User.kind`` and the encrypted ``id_number``. No part of the protocol is mocked."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.db import connection
from django.test import Client

from tongban.core import oidc
from tongban.core.demo import ID_NUMBERS
from tongban.core.models import User

ROOT = Path(__file__).resolve().parents[3]
CLIENT_ID, CLIENT_SECRET = "tongban-test", "s3cret-for-tests-only"
CLAIMS = {
    "wang": {"name": "王小明", "id_number": "110101199003070011", "user_kind": "自然人", "phone_number": "13900000011"},
    "firm": {"name": "云溪青禾农业有限公司", "id_number": "91910100MA0000001X", "user_kind": "legal"},
    "zhang": {"name": "张三", "id_number": ID_NUMBERS["zhangsan"], "user_kind": "natural"},
    "clerk": {"name": "王晓窗", "id_number": "", "user_kind": "natural"},  # no ID number: refused
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def provider(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("oidc")
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    (tmp / "key.pem").write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                    serialization.NoEncryption()))
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OIDC_PROVIDER_DB": str(tmp / "provider.sqlite3"),
           "OIDC_PROVIDER_KEY": str(tmp / "key.pem"), "OIDC_PROVIDER_CLAIMS": json.dumps(CLAIMS),
           "OIDC_PROVIDER_PORT": str(port), "OIDC_CLIENT_ID": CLIENT_ID, "OIDC_CLIENT_SECRET": CLIENT_SECRET,
           "OIDC_REDIRECT_URI": "http://testserver/oidc/callback/",
           "DJANGO_SETTINGS_MODULE": "tongban.core.tests.oidc_provider.settings"}
    proc = subprocess.Popen([sys.executable, "-m", "tongban.core.tests.oidc_provider.serve"], env=env, cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline() if proc.stdout else ""
        if line.strip() != "READY":
            proc.kill()
            raise AssertionError(f"OIDC provider did not start: {line}{proc.stderr.read() if proc.stderr else ''}")
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.fixture
def configured(provider, settings, demo_core):
    settings.TONGBAN_OIDC_ISSUER = f"{provider}/o"
    settings.TONGBAN_OIDC_CLIENT_ID = CLIENT_ID
    settings.TONGBAN_OIDC_CLIENT_SECRET = CLIENT_SECRET
    settings.AUTHENTICATION_BACKENDS = [*settings.AUTHENTICATION_BACKENDS, "tongban.core.oidc.OIDCBackend"]
    oidc.clear_discovery_cache()
    yield provider
    oidc.clear_discovery_cache()


def sign_in(provider: str, username: str, rp: Client | None = None) -> tuple[Client, object]:
    """The browser's part: the platform sends it to the provider, it signs in there, the provider sends it back."""
    rp = rp or Client()
    start = rp.get("/oidc/authenticate/?next=/messages/")
    assert start.status_code == 302, start.content
    authorize = start["Location"]
    assert authorize.startswith(f"{provider}/o/authorize/")
    params = parse_qs(urlsplit(authorize).query)
    assert params["code_challenge_method"] == ["S256"] and params["nonce"] and params["state"]
    with httpx.Client(base_url=provider, follow_redirects=False, timeout=20) as browser:
        browser.get("/accounts/login/")
        r = browser.post("/accounts/login/", data={"username": username, "password": "pw",
                                                   "csrfmiddlewaretoken": browser.cookies["csrftoken"]})
        assert r.status_code == 302, r.text
        back = browser.get(authorize)
    assert back.status_code == 302, back.text
    callback = urlsplit(back.headers["location"])
    assert callback.netloc == "testserver" and callback.path == "/oidc/callback/"
    return rp, rp.get(f"{callback.path}?{callback.query}")


@pytest.mark.django_db(transaction=True)
def test_sign_in_through_a_real_openid_provider(configured):
    provider = configured
    # the login page offers it
    assert "统一身份认证登录" in Client().get("/accounts/login/").content.decode()

    # a new citizen: an account is created from the claims
    rp, done = sign_in(provider, "wang")
    assert done.status_code == 302 and done["Location"] == "/messages/"
    user = User.objects.get(pk=rp.session["_auth_user_id"])
    assert (user.kind, user.display_name, user.id_number, user.phone) == (
        "natural", "王小明", "110101199003070011", "13900000011")
    assert not user.has_usable_password()
    with connection.cursor() as cur:  # the ID number is encrypted at rest
        cur.execute("SELECT id_number FROM core_user WHERE id = %s", [user.pk])
        stored = cur.fetchone()[0]
    assert "110101199003070011" not in stored
    assert rp.get("/messages/").status_code == 200

    # the same person again: the same account (found by the keyed hash of the ID number)
    rp2, _ = sign_in(provider, "wang")
    assert rp2.session["_auth_user_id"] == str(user.pk)

    # a company: kind 法人 from the claim; an existing citizen: their own account
    rp, _ = sign_in(provider, "firm")
    firm = User.objects.get(pk=rp.session["_auth_user_id"])
    assert (firm.kind, firm.id_number, firm.display_name) == ("legal", "91910100MA0000001X", "云溪青禾农业有限公司")
    rp, _ = sign_in(provider, "zhang")
    assert User.objects.get(pk=rp.session["_auth_user_id"]).username == "zhangsan"

    # no ID number in the claims: refused, nobody signed in, back at the login page
    accounts = User.objects.count()
    rp, done = sign_in(provider, "clerk")
    assert done.status_code == 302 and done["Location"] == "/accounts/login/"
    assert "_auth_user_id" not in rp.session
    assert User.objects.count() == accounts  # no account was created


@pytest.mark.django_db(transaction=True)
def test_staff_accounts_are_not_entered_through_the_identity_provider(configured):
    staff = User.objects.get(username="clerk")
    staff.id_number = "110101199003070011"
    staff.save()
    rp, _ = sign_in(configured, "wang")
    signed_in = User.objects.get(pk=rp.session["_auth_user_id"])
    assert signed_in.pk != staff.pk and signed_in.kind == "natural"


def test_off_by_default_the_button_and_the_entry_point_send_back_to_the_password_login(db, settings):
    settings.TONGBAN_OIDC_ISSUER = ""
    c = Client()
    assert "统一身份认证" not in c.get("/accounts/login/").content.decode()
    r = c.get("/oidc/authenticate/")
    assert r.status_code == 302 and r["Location"] == "/accounts/login/"
    r = c.get("/oidc/callback/?code=x&state=y")
    assert r.status_code == 302 and r["Location"] == "/accounts/login/"

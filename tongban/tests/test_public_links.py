"""Public links that work: ``tongban demo --port N`` without ``TONGBAN_PUBLIC_URL`` prints every licence link and QR
code for ``http://127.0.0.1:N``; the test issues a licence on that server and follows its QR link."""

from __future__ import annotations

import base64
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tongban.core.demo import DEMO_PASSWORD, ID_NUMBERS
from tongban.credentials.tests.helpers import page_text

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_up(base: str, server: subprocess.Popen[bytes], seconds: float = 600) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert server.poll() is None, "tongban demo exited early"
        try:
            if httpx.get(f"{base}/accounts/login/", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise AssertionError("tongban demo did not come up")


def _token(base: str, username: str) -> dict[str, str]:
    r = httpx.post(f"{base}/api/auth/token", json={"username": username, "password": DEMO_PASSWORD}, timeout=30)
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['token']}"}


def _jws_payload(jws: str) -> dict:
    part = jws.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def test_a_licence_issued_on_a_non_default_port_links_to_that_port(tmp_path):
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, "TONGBAN_HOME": str(tmp_path), "TONGBAN_LOG_LEVEL": "ERROR"}
    for name in ("DATABASE_URL", "TONGBAN_PUBLIC_URL"):
        env.pop(name, None)
    server = subprocess.Popen([sys.executable, "-m", "tongban", "demo", "--port", str(port)], cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        _wait_up(base, server)
        # a licence issued now, by the issuing department's staff through the running server
        issuer = _token(base, "approver-rsj")
        r = httpx.post(f"{base}/api/credentials/issue", headers=issuer, timeout=60, json={
            "licence_type": "social_security_card",
            "holder": {"kind": "natural", "name": "张三", "id_number": ID_NUMBERS["zhangsan"]},
            "data": {"card_number": "E12345678", "bank": "云溪农商银行"}})
        assert r.status_code == 201, r.text
        credential = r.json()
        verify = f"{base}/verify/{credential['id']}/"
        assert credential["links"]["verify"] == verify
        assert all(link.startswith(f"{base}/") for link in credential["links"].values())

        holder = _token(base, "zhangsan")
        pdf = httpx.get(f"{base}/api/credentials/{credential['id']}/pdf", headers=holder, timeout=30)
        assert pdf.status_code == 200
        assert verify in page_text(pdf.content)  # the printed link next to the QR code (both are verify_url)
        vc = _jws_payload(httpx.get(f"{base}/api/credentials/{credential['id']}/vc", headers=holder,
                                    timeout=30).text)
        assert json.dumps(vc).count("127.0.0.1:8000") == 0
        assert f"{base}/api/credentials/status/" in json.dumps(vc["credentialStatus"])

        page = httpx.get(verify, timeout=30)  # follow the QR link
        assert page.status_code == 200 and 'data-status="active"' in page.text

        # the demo's own licences, issued while loading, point at this port too
        wallet = httpx.get(f"{base}/api/credentials/wallet", headers=holder, timeout=30).json()
        items = wallet["items"] if isinstance(wallet, dict) else wallet
        assert items and all(i["links"]["verify"].startswith(f"{base}/verify/") for i in items if "links" in i)
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGTERM)
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
                server.wait()

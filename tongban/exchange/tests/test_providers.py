"""Remote HTTP providers: signed requests (JWS verified with the platform JWKS), timeout, retries with
backoff, circuit breaker (open / half-open / close), bad answers; a remote resource behind the broker."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
from joserfc import jws
from joserfc.jwk import KeySet

from tongban.core import evidence
from tongban.core.evidence import (
    SHARED,
    EvidenceError,
    EvidenceNotFound,
    EvidenceRequest,
    ProviderUnavailable,
)
from tongban.exchange import errors, keys, services
from tongban.exchange.models import AccessLogEntry, DataResource
from tongban.exchange.providers import CircuitBreaker, RemoteHttpProvider

ZHANGSAN = "910102199001011234"
RECORD = {"id_number": ZHANGSAN, "name": "张三", "gender": "男", "birth_date": "1990-01-01",
          "household_address": "东川省云溪市青山区翠湖街道翠湖路18号2栋301室"}


def request(**kw) -> EvidenceRequest:
    return EvidenceRequest(source=SHARED, code="household_register", subject_id=ZHANGSAN, requester_org="yx-scjg",
                           purpose="核验", case_ref="A-1", **kw)


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


# --- circuit breaker ------------------------------------------------------------------------------


def test_breaker_opens_after_n_failures_half_opens_after_cooldown_and_closes_on_success():
    clock = Clock()
    b = CircuitBreaker(threshold=3, cooldown=10, clock=clock)
    for _ in range(2):
        assert b.allow()
        b.record_failure()
    assert b.state == "closed"
    assert b.allow()
    b.record_failure()
    assert b.state == "open" and not b.allow()
    clock.now = 9.9
    assert not b.allow()
    clock.now = 10
    assert b.state == "half_open"
    assert b.allow()  # one trial
    assert not b.allow()  # only one at a time
    b.record_failure()  # trial failed: open again, a new cool-down
    assert b.state == "open" and not b.allow()
    clock.now = 20
    assert b.allow()
    b.record_success()
    assert b.state == "closed" and b.allow() and b.failures == 0


# --- remote provider with httpx.MockTransport -----------------------------------------------------


def make(handler, **kw) -> RemoteHttpProvider:
    kw.setdefault("breaker", CircuitBreaker(threshold=kw.pop("threshold", 3), cooldown=30, clock=kw.pop("clock", Clock())))
    return RemoteHttpProvider("household_register", "http://provider.test/evidence", organisation_code="yx-ga",
                              title="户籍人口基本信息", timeout=0.5, retries=kw.pop("retries", 2), backoff=0,
                              transport=httpx.MockTransport(handler), **kw)


def test_signed_request_verifies_with_the_platform_jwks(settings):
    seen = {}

    def handler(req: httpx.Request) -> httpx.Response:
        token = req.content.decode()
        key_set = KeySet.import_key_set(keys.jwks())
        obj = jws.deserialize_compact(token, key_set, algorithms=["Ed25519"])
        seen["headers"], seen["payload"] = obj.headers(), json.loads(obj.payload)
        seen["content_type"] = req.headers["content-type"]
        return httpx.Response(200, json={"data": RECORD, "reference": "HR-1"})

    ev = make(handler).fetch(request(fields=("name",)))
    assert ev.data == RECORD and ev.reference == "HR-1" and ev.provider_org == "yx-ga"
    assert seen["content_type"] == "application/jose"
    assert seen["headers"]["alg"] == "Ed25519" and seen["headers"]["kid"] == keys.request_jwk().kid
    assert seen["payload"]["subject_id"] == ZHANGSAN and seen["payload"]["fields"] == ["name"]
    assert seen["payload"]["requester_org"] == "yx-scjg" and seen["payload"]["resource"] == "household_register"
    # a tampered body does not verify
    import base64

    from joserfc.errors import BadSignatureError

    from tongban.exchange.providers import sign_request

    header, _, signature = sign_request({"subject_id": ZHANGSAN}).split(".")
    other = base64.urlsafe_b64encode(json.dumps({"subject_id": "91010219880315432X"}).encode()).rstrip(b"=").decode()
    with pytest.raises(BadSignatureError):
        jws.deserialize_compact(f"{header}.{other}.{signature}", KeySet.import_key_set(keys.jwks()),
                                algorithms=["Ed25519"])


def test_retries_with_backoff_then_success():
    calls = []

    def handler(req):
        calls.append(1)
        if len(calls) < 3:
            return httpx.Response(503)
        return httpx.Response(200, json={"data": RECORD})

    assert make(handler).fetch(request()).data == RECORD
    assert len(calls) == 3


def test_timeouts_exhaust_retries_and_open_the_breaker():
    calls = []

    def handler(req):
        calls.append(1)
        raise httpx.ReadTimeout("slow", request=req)

    clock = Clock()
    provider = make(handler, threshold=2, clock=clock, retries=1)
    for _ in range(2):
        with pytest.raises(ProviderUnavailable) as exc:
            provider.fetch(request())
        assert "超时" in str(exc.value) and "上传" in str(exc.value)
    assert len(calls) == 4  # 2 calls x (1 + 1 retry)
    assert provider.breaker.state == "open"
    with pytest.raises(ProviderUnavailable, match="熔断"):
        provider.fetch(request())
    assert len(calls) == 4  # no call while open
    clock.now = 31
    with pytest.raises(ProviderUnavailable):  # half-open trial fails: open again
        provider.fetch(request())
    assert len(calls) == 6 and provider.breaker.state == "open"


def test_breaker_closes_after_a_good_trial_call():
    state = {"up": False}

    def handler(req):
        if not state["up"]:
            raise httpx.ConnectError("refused", request=req)
        return httpx.Response(200, json={"data": RECORD})

    clock = Clock()
    provider = make(handler, threshold=1, clock=clock, retries=0)
    with pytest.raises(ProviderUnavailable, match="连接失败"):
        provider.fetch(request())
    assert provider.breaker.state == "open"
    state["up"] = True
    clock.now = 31
    assert provider.breaker.state == "half_open"
    assert provider.fetch(request()).data == RECORD
    assert provider.breaker.state == "closed"


@pytest.mark.parametrize("response, exc_type, code", [
    (httpx.Response(200, text="<html>oops</html>"), EvidenceError, errors.BAD_PROVIDER_ANSWER),
    (httpx.Response(200, json=["not", "an", "object"]), EvidenceError, errors.BAD_PROVIDER_ANSWER),
    (httpx.Response(200, json={"record": RECORD}), EvidenceError, errors.BAD_PROVIDER_ANSWER),
    (httpx.Response(404, json={"error": "not_found"}), EvidenceNotFound, "evidence.not_found"),
    (httpx.Response(403), EvidenceError, "exchange.provider_refused"),
])
def test_bad_answers(response, exc_type, code):
    provider = make(lambda req: response)
    with pytest.raises(exc_type) as exc:
        provider.fetch(request())
    assert exc.value.code == code
    assert provider.breaker.state == "closed"  # the department answered: not a link failure


# --- a real local HTTP server behind the broker ---------------------------------------------------


class _Handler(BaseHTTPRequestHandler):
    mode = "ok"
    jwks: dict = {}
    verified: list = []

    def log_message(self, *args):  # quiet
        pass

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"])).decode()
        try:
            obj = jws.deserialize_compact(body, KeySet.import_key_set(self.jwks), algorithms=["Ed25519"])
        except Exception:
            self._send(401, {"error": "bad signature"})
            return
        payload = json.loads(obj.payload)
        self.verified.append(payload)
        if self.mode == "down":
            self._send(503, {"error": "maintenance"})
        elif self.mode == "malformed":
            self._send(200, {"data": {**RECORD, "birth_date": 19900101}})
        else:
            self._send(200, {"data": {k: v for k, v in RECORD.items() if k in payload["fields"]}})

    def _send(self, status: int, doc: dict) -> None:
        data = json.dumps(doc, ensure_ascii=False).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture
def provider_server():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.mark.django_db
def test_remote_resource_through_the_broker(exchange_demo, provider_server, settings, client):
    settings.TONGBAN_EXCHANGE_RETRIES = 1
    settings.TONGBAN_EXCHANGE_BACKOFF = 0
    _Handler.jwks = client.get("/api/exchange/jwks.json").json()  # what the department downloads
    _Handler.verified = []
    _Handler.mode = "ok"
    url = f"http://127.0.0.1:{provider_server.server_address[1]}/evidence"
    DataResource.objects.filter(code="household_register").update(endpoint_url=url)
    services.give_consent(subject_id=ZHANGSAN, code="household_register", consumer_org="yx-scjg", purpose="核验",
                          case_ref="A-1")
    ev = evidence.fetch(request())
    assert ev.data["name"] == "张三" and ev.data["gender"] == "*" and ev.provider_org == "yx-ga"
    assert _Handler.verified[-1]["fields"] == ["id_number", "name", "gender", "birth_date", "household_address"]
    _Handler.mode = "malformed"
    with pytest.raises(EvidenceError) as exc:
        evidence.fetch(request())
    assert exc.value.code == errors.BAD_PROVIDER_ANSWER and "birth_date" in str(exc.value)
    _Handler.mode = "down"
    with pytest.raises(ProviderUnavailable) as exc:
        evidence.fetch(request())
    assert "户籍人口基本信息" in str(exc.value) and "上传" in str(exc.value)
    outcomes = list(AccessLogEntry.objects.order_by("seq").values_list("outcome", "error_code"))
    assert outcomes == [("granted", ""), ("failed", errors.BAD_PROVIDER_ANSWER),
                        ("failed", "evidence.provider_unavailable")]

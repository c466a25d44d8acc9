"""HTTP benchmark: the platform behind its production server, driven by concurrent clients, three workloads in one run.

    python benchmarks/http.py [--database-url URL] [--concurrency 8] [--seconds 30] [--server granian|gunicorn]
                              [--workers N] [--port P]

Builds a scratch database (temporary SQLite under a temporary TONGBAN_HOME, or the PostgreSQL database of
``--database-url``, created if missing), migrates it and loads the demo data, starts the web server exactly as
``tongban serve`` does (``tongban.core.server``; workers = cores unless ``--workers``; no background worker), and
then keeps ``--concurrency`` clients (threads with keep-alive connections) busy for ``--seconds`` per workload, in
``--rounds`` alternating slices (so that a change of the machine's load during the run hits every workload):

- ``baseline``: ``GET /api/notices/{code}/verify`` of an existing notice: one indexed read through the whole
  stack (middleware, routing, JSON);
- ``catalogue``: ``GET /api/catalog/items?q=出生`` (the public catalogue search);
- ``submission``: the full 出生一件事 submission of ``tongban.tests.journeys`` through the JSON API
  (create, 5 evidence fetches with consent, 1 upload, submit: 8 calls) as the demo applicant, bearer token.

Prints requests/s (for the submission: complete submissions/s) and p50/p95/p99 latency of each, errors, and as
its last line ``submission_cost_vs_baseline=X.XX``: baseline requests/s divided by the submission path's
requests/s (8 × complete submissions/s), i.e. how many baseline requests one call of the submission costs.
"""

from __future__ import annotations

import importlib
import os
import sys

# This file is named http.py, like the standard library's package. Run as a script, its folder is first on the
# import path: drop it, or ``import http.client`` (below, and in Django) would find this file. Imported as ``http``
# by another script of this folder (benchmarks/workflow.py imports Django, which imports http.cookies), hand the
# importer the real package instead of this file.
_HERE = os.path.dirname(os.path.abspath(__file__))
if __name__ == "http":
    _saved = list(sys.path)
    sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != _HERE]
    del sys.modules["http"]
    try:
        sys.modules["http"] = importlib.import_module("http")
    finally:
        sys.path[:] = _saved
elif sys.path and os.path.abspath(sys.path[0] or ".") == _HERE:
    sys.path.pop(0)

import argparse  # noqa: E402
import http.client  # noqa: E402
import json  # noqa: E402
import shutil  # noqa: E402
import socket  # noqa: E402
import statistics  # noqa: E402
import tempfile  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402
from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

CALLS = 8  # HTTP calls of one submission (journeys.submit_birth)
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def setup(database_url: str | None, home: Path) -> None:
    """Scratch database with the demo data (in this process; the server processes get the same environment)."""
    os.environ["TONGBAN_HOME"] = str(home)
    os.environ.pop("DATABASE_URL", None)
    if database_url:
        sys.path.insert(0, str(ROOT / "benchmarks"))
        from workflow import ensure_postgres_database

        ensure_postgres_database(database_url)
        os.environ["DATABASE_URL"] = database_url
    os.environ["DJANGO_SETTINGS_MODULE"] = "tongban.settings"
    os.environ.setdefault("TONGBAN_LOG_LEVEL", "ERROR")
    os.environ["PYTHONPATH"] = os.pathsep.join([str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])
    import django

    django.setup()
    from django.core.management import call_command
    from rich.console import Console

    from tongban.demo import load_demo

    call_command("migrate", interactive=False, verbosity=0)
    load_demo(Console(quiet=True))


class Client:
    """One keep-alive HTTP connection (one per client thread)."""

    def __init__(self, port: int, token: str = "") -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}

    def request(self, method: str, path: str, body: Any = None, upload: tuple[str, bytes] | None = None
                ) -> tuple[int, Any]:
        headers = dict(self.headers)
        data: bytes | None = None
        if upload is not None:
            boundary = uuid.uuid4().hex
            name, content = upload
            data = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n"
                    f"Content-Type: application/pdf\r\n\r\n").encode() + content + f"\r\n--{boundary}--\r\n".encode()
            headers["Content-Type"] = f"multipart/form-data; boundary={boundary}"
        elif body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        for attempt in (1, 2):
            try:
                self.conn.request(method, path, body=data, headers=headers)
                response = self.conn.getresponse()
                raw = response.read()
                break
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.conn.close()  # the server closed an idle keep-alive connection: reconnect once
                if attempt == 2:
                    raise
        ctype = response.getheader("Content-Type", "")
        return response.status, (json.loads(raw) if "json" in ctype and raw else raw)


def wait_until_up(port: int, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                pass
            status, _ = Client(port).request("GET", "/api/catalog/items?q=x")
            if status == 200:
                return
        except OSError:
            pass
        time.sleep(0.3)
    raise SystemExit("the server did not come up")


def drive(name: str, unit: Callable[[Client], None], make_client: Callable[[], Client], concurrency: int,
          seconds: float) -> dict[str, Any]:
    """Keep ``concurrency`` threads running ``unit`` for ``seconds``; latencies of the completed units."""
    latencies: list[list[float]] = [[] for _ in range(concurrency)]
    errors: list[list[str]] = [[] for _ in range(concurrency)]
    start_line = threading.Barrier(concurrency + 1)
    stop_at = [0.0]

    def loop(i: int) -> None:
        client = make_client()
        start_line.wait()
        while time.monotonic() < stop_at[0]:
            t0 = time.perf_counter()
            try:
                unit(client)
            except Exception as exc:  # noqa: BLE001  (every failure is counted and shown)
                errors[i].append(f"{type(exc).__name__}: {str(exc)[:200]}")
                client = make_client()
                continue
            latencies[i].append(time.perf_counter() - t0)

    threads = [threading.Thread(target=loop, args=(i,), daemon=True) for i in range(concurrency)]
    for t in threads:
        t.start()
    stop_at[0] = time.monotonic() + seconds
    began = time.monotonic()
    start_line.wait()
    for t in threads:
        t.join(seconds + 120)
    elapsed = time.monotonic() - began
    done = [x for per in latencies for x in per]
    errs = [e for per in errors for e in per]
    return {"name": name, "latencies": done, "elapsed": elapsed, "errors": errs}


def combine(name: str, parts: list[dict[str, Any]]) -> dict[str, Any]:
    """One workload's slices together: completed units over the time spent, latency percentiles, errors."""
    done = sorted(x for p in parts for x in p["latencies"])
    errs = [e for p in parts for e in p["errors"]]
    elapsed = sum(p["elapsed"] for p in parts)

    def pct(q: float) -> float:
        return done[min(len(done) - 1, int(q * len(done)))] * 1000 if done else float("nan")

    return {"name": name, "count": len(done), "rps": len(done) / elapsed, "p50": pct(0.50), "p95": pct(0.95),
            "p99": pct(0.99), "mean": statistics.fmean(done) * 1000 if done else float("nan"),
            "errors": len(errs), "first_error": errs[0] if errs else ""}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=None,
                        help="e.g. postgres://postgres@127.0.0.1:5432/tongban_bench_http (default: temporary SQLite)")
    parser.add_argument("--concurrency", type=int, default=8, help="concurrent clients (default 8)")
    parser.add_argument("--seconds", type=float, default=30, help="seconds per workload (default 30)")
    parser.add_argument("--rounds", type=int, default=3,
                        help="slices per workload, alternating between the workloads (default 3)")
    parser.add_argument("--server", default="", help="granian or gunicorn (default: what tongban serve uses)")
    parser.add_argument("--workers", type=int, default=0, help="server processes (default: cores)")
    parser.add_argument("--port", type=int, default=0, help="port (default: a free one)")
    args = parser.parse_args()
    if args.concurrency < 1 or args.seconds <= 0 or args.rounds < 1:
        parser.error("--concurrency and --rounds must be at least 1 and --seconds positive")
    home = Path(tempfile.mkdtemp(prefix="tongban-bench-http-"))
    try:
        setup(args.database_url, home)
        run(args)
    finally:
        shutil.rmtree(home, ignore_errors=True)


def run(args: argparse.Namespace) -> None:
    from django.db import connection

    from tongban.core import server as web
    from tongban.core.demo import DEMO_PASSWORD, ID_NUMBERS
    from tongban.tests.journeys import submit_birth

    server = args.server or web.default_server()
    workers = args.workers or web.default_workers()
    port = args.port
    if not port:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
    db = f"{connection.vendor} ({connection.settings_dict['NAME']})"
    connection.close()
    process = web.start(server, "127.0.0.1", port, workers)
    try:
        wait_until_up(port)
        status, body = Client(port).request("POST", "/api/auth/token",
                                            {"username": "zhangsan", "password": DEMO_PASSWORD})
        if status != 200:
            raise SystemExit(f"sign-in failed: {status} {body!r}")
        token = body["token"]
        id_number = ID_NUMBERS["zhangsan"]
        warm = Client(port, token)
        for _ in range(2):  # warm every cache the way a running server has them
            detail = submit_birth(warm.request, id_number)
        notice = detail["notices"][0]["code"]

        def baseline(client: Client) -> None:
            status, body = client.request("GET", f"/api/notices/{notice}/verify")
            if status != 200 or not body.get("valid"):
                raise RuntimeError(f"baseline: HTTP {status}")

        def catalogue(client: Client) -> None:
            status, body = client.request("GET", "/api/catalog/items?q=%E5%87%BA%E7%94%9F")
            if status != 200 or not body.get("items"):
                raise RuntimeError(f"catalogue: HTTP {status}")

        def submission(client: Client) -> None:
            detail = submit_birth(client.request, id_number)
            if detail.get("status") != "in_review":
                raise RuntimeError(f"submission ended in status {detail.get('status')}")

        workloads = (("baseline", baseline, False), ("catalogue", catalogue, False),
                     ("submission", submission, True))
        parts: dict[str, list[dict[str, Any]]] = {name: [] for name, _, _ in workloads}
        for r in range(args.rounds):  # alternating slices: a change of the machine's load hits every workload
            for name, unit, with_token in workloads[r % 3:] + workloads[:r % 3]:
                parts[name].append(drive(name, unit, lambda t=with_token: Client(port, token if t else ""),
                                         args.concurrency, args.seconds / args.rounds))
        results = [combine(name, parts[name]) for name, _, _ in workloads]
    finally:
        web.stop(process)
    load = os.getloadavg()
    print(f"http benchmark: {server} with {workers} workers, {args.concurrency} concurrent clients, "
          f"{args.seconds:g} s per workload in {args.rounds} slices, database {db}, load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    print(f"{'workload':<12}{'done':>8}{'req/s':>10}{'p50 ms':>10}{'p95 ms':>10}{'p99 ms':>10}{'errors':>8}")
    for r in results:
        print(f"{r['name']:<12}{r['count']:>8}{r['rps']:>10.1f}{r['p50']:>10.1f}{r['p95']:>10.1f}{r['p99']:>10.1f}"
              f"{r['errors']:>8}")
    for r in results:
        if r["errors"]:
            print(f"first error of {r['name']}: {r['first_error']}")
    by = {r["name"]: r for r in results}
    calls = by["submission"]["rps"] * CALLS
    print(f"(submission: one row = the whole {CALLS}-call submission, latency of all {CALLS} calls; "
          f"{by['submission']['rps']:.1f} submissions/s = {calls:.1f} submission-path requests/s)")
    ratio = by["baseline"]["rps"] / calls if calls else float("inf")
    print(f"submission_cost_vs_baseline={ratio:.2f}")


if __name__ == "__main__":
    main()

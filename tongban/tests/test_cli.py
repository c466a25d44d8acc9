"""`tongban serve` runs the production web server (W processes) with its background worker; stopping it stops
both."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(c) for c in path.read_text().split()] if path.exists() else []


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.exists() and stat.read_text().split(")")[-1].split()[0] == "Z")  # zombies are gone


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="needs Linux /proc")
def _descendants(pid: int) -> list[int]:
    out = []
    for child in _children(pid):
        out += [child, *_descendants(child)]
    return out


def _get(port: int, path: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as exc:
        return exc.code, b""
    except OSError:
        return 0, b""


def test_sigterm_to_serve_stops_its_web_workers_and_its_worker(tmp_path):
    env = {**os.environ, "TONGBAN_HOME": str(tmp_path), "TONGBAN_LOG_LEVEL": "ERROR"}
    env.pop("DATABASE_URL", None)  # its own SQLite file: the test database is not touched
    port = _free_port()
    server = subprocess.Popen([sys.executable, "-m", "tongban", "serve", "--port", str(port), "--workers", "2"],
                              cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    workers: list[int] = []
    try:
        deadline = time.monotonic() + 120
        status = 0
        while time.monotonic() < deadline and status != 200:
            assert server.poll() is None, "tongban serve exited early"
            status, _ = _get(port, "/")
            time.sleep(0.3)
        assert status == 200, "the server did not answer"
        static_status, body = _get(port, "/static/tongban/tongban.css")
        assert static_status == 200 and body, "static files are not served (whitenoise)"
        workers = _descendants(server.pid)
        # the background worker plus the web server, whose 2 worker processes answer the requests
        assert len(workers) >= 3, workers
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
        deadline = time.monotonic() + 20
        while any(_alive(p) for p in workers) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not any(_alive(p) for p in workers), "a worker outlived the server"
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
        for pid in workers:  # never leave a worker behind, even when the test fails
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)


def _worker_output(env: dict[str, str], *args: str, seconds: float = 8.0) -> str:
    worker = subprocess.Popen([sys.executable, "-m", "tongban", "worker", *args], cwd=ROOT, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        time.sleep(seconds)
    finally:
        worker.send_signal(signal.SIGINT)
        try:
            out, _ = worker.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()
            out, _ = worker.communicate()
    return out


def test_worker_is_quiet_by_default_and_logs_every_task_with_v(tmp_path):
    """The periodic tick runs every second here: quiet, the worker prints nothing per task; ``-v`` shows each."""
    env = {**os.environ, "TONGBAN_HOME": str(tmp_path), "TONGBAN_WORKFLOW_TICK_SECONDS": "1"}
    env.pop("DATABASE_URL", None)
    subprocess.run([sys.executable, "-m", "tongban", "migrate"], cwd=ROOT, env=env, check=True,
                   stdout=subprocess.DEVNULL)
    quiet = _worker_output(env)
    verbose = _worker_output(env, "-v")
    assert "Task id=" in verbose and "state=SUCCESSFUL" in verbose, verbose  # ticks ran while we watched
    assert "Task id=" not in quiet, quiet

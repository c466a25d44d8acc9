"""The production web server behind ``tongban serve`` / ``tongban demo``: a multi-process WSGI server.

``granian`` (the default; Rust HTTP front, one Python process per worker) or ``gunicorn`` (sync workers), chosen
with ``TONGBAN_SERVER``; ``runserver`` (Django's development server) only when asked for. Workers default to
the number of cores (``TONGBAN_WEB_WORKERS`` or ``--workers``). Static files come from whitenoise in every
worker. Database connections are kept between requests (``TONGBAN_CONN_MAX_AGE`` defaults to 600 s under a
production server) so a request does not pay a new PostgreSQL connection.

Measured on the standard machine (``benchmarks/http.py``, docs/benchmarks.md): granian and gunicorn give about
the same requests/s with workers = cores; granian answers the cheap requests with a lower p99 and its
process manager restarts a crashed worker, so it is the default.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable

SERVERS = ("granian", "gunicorn", "runserver")


def default_workers() -> int:
    """``TONGBAN_WEB_WORKERS`` or the number of cores this process may use."""
    configured = os.environ.get("TONGBAN_WEB_WORKERS", "").strip()
    if configured:
        return max(1, int(configured))
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def default_server() -> str:
    server = os.environ.get("TONGBAN_SERVER", "granian").strip() or "granian"
    if server not in SERVERS:
        raise ValueError(f"TONGBAN_SERVER={server!r}: choose one of {', '.join(SERVERS)}")
    return server


def command(server: str, host: str, port: int, workers: int) -> list[str]:
    """The command line that runs ``server`` on ``host:port`` with ``workers`` processes."""
    py = sys.executable
    if server == "granian":
        return [py, "-m", "granian", "--interface", "wsgi", "--host", host, "--port", str(port),
                "--workers", str(workers), "--blocking-threads", "1", "--no-ws", "--log-level", "warning",
                "tongban.wsgi:application"]
    if server == "gunicorn":
        return [py, "-m", "gunicorn", "--bind", f"{host}:{port}", "--workers", str(workers),
                "--worker-class", "sync", "--log-level", "warning", "--graceful-timeout", "10",
                "tongban.wsgi:application"]
    if server == "runserver":
        return [py, "-m", "tongban", "manage", "runserver", f"{host}:{port}", "--noreload"]
    raise ValueError(f"unknown server {server!r}: choose one of {', '.join(SERVERS)}")


def environment(server: str) -> dict[str, str]:
    env = dict(os.environ)
    if server != "runserver":
        env.setdefault("TONGBAN_CONN_MAX_AGE", "600")
    return env


def start(server: str, host: str, port: int, workers: int) -> subprocess.Popen[bytes]:
    """Start the web server in its own process (the caller stops it with :func:`stop`)."""
    return subprocess.Popen(command(server, host, port, workers), env=environment(server))


def stop(process: subprocess.Popen[bytes], timeout: float = 15) -> None:
    """SIGTERM (both servers finish the requests in flight, then leave), SIGKILL after ``timeout``."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=5)


def run(server: str, host: str, port: int, workers: int, *, on_stop: Callable[[], None] = lambda: None) -> int:
    """Run the server until it exits or this process gets SIGTERM/SIGINT; ``on_stop`` runs either way (it stops
    the background worker). Returns the server's exit status."""
    process = start(server, host, port, workers)
    stopping = False

    def handle(signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    previous = {s: signal.signal(s, handle) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        while process.poll() is None and not stopping:
            time.sleep(0.2)
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
        stop(process)
        on_stop()
    return 0 if stopping else (process.returncode or 0)

"""Faults survived: a worker killed in the middle of a task, database connections cut during a burst of
submissions. (Backup and restore: ``tongban/core/tests/test_backup.py``.)

Run as a module, this file is the small program the worker test drives in subprocesses::

    python -m tongban.tests.test_faults setup|worker|report

It registers the service-task handler ``faults.gate``, which notes each start in a marker file, waits while a gate
file exists, then writes its effect (an audit record) in the engine's transaction.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tongban.core.tests.isolated import installations, postgres_base_url

PROCESS_KEY = "faults_gate"
BUSINESS_KEY = "faults-1"
LEASE_SECONDS = 3
ENGINES = [
    pytest.param(False, id="sqlite"),
    pytest.param(None, id="postgresql", marks=[
        pytest.mark.postgres_only,
        pytest.mark.skipif(postgres_base_url() is None, reason="needs PostgreSQL (DATABASE_URL)")]),
]


# --- the worker test's program (subprocesses) ----------------------------------------------------------------


def _register_gate() -> None:
    from tongban.core.services import audit
    from tongban.workflow.registry import register_handler

    @register_handler("faults.gate")
    def gate(ctx):  # noqa: ANN001, ANN202 - a service-task handler
        marker = Path(os.environ["TONGBAN_FAULTS_MARKER"])
        with marker.open("a") as fh:
            fh.write(f"start {os.getpid()}\n")
        while Path(os.environ["TONGBAN_FAULTS_GATE"]).exists():
            time.sleep(0.05)
        audit("faults.effect", object_type="workflow.processinstance", object_id=str(ctx.instance_id),
              detail={"pid": os.getpid()})
        with marker.open("a") as fh:
            fh.write(f"end {os.getpid()}\n")
        return {"effect_by": os.getpid()}


def _setup() -> None:
    from rich.console import Console

    from tongban.core import demo
    from tongban.workflow import services
    from tongban.workflow.tests.helpers import bpmn, chain, user_task

    demo.load(Console(quiet=True))
    services.deploy(bpmn(PROCESS_KEY, "\n".join([
        '    <bpmn:startEvent id="start"/>',
        '    <bpmn:serviceTask id="charge" name="收费" tongban:handler="faults.gate"/>',
        user_task("review", "审查"),
        '    <bpmn:endEvent id="end"/>',
        chain("start", "charge", "review", "end"),
    ])))
    services.start(PROCESS_KEY, business_key=BUSINESS_KEY)


def _report() -> dict:
    from django_tasks_db.models import DBTaskResult

    from tongban.core.models import AuditLog
    from tongban.workflow.models import ProcessInstance, Task
    from tongban.workflow.tasks import run_service_task_task

    instance = ProcessInstance.objects.get(business_key=BUSINESS_KEY)
    return {
        "runs": [{"status": r.status, "workers": r.worker_ids} for r in
                 DBTaskResult.objects.filter(task_path=run_service_task_task.module_path).order_by("enqueued_at")],
        "effects": AuditLog.objects.filter(action="faults.effect", object_id=str(instance.pk)).count(),
        "tasks": list(Task.objects.filter(instance=instance).values_list("element_id", flat=True)),
        "variables": instance.variables,
    }


def _main(command: str) -> None:
    from tongban.cli import _register_app_commands, app, setup_django

    setup_django()
    from django.conf import settings

    settings.TONGBAN_WORKFLOW_TICK_SECONDS = 1
    _register_gate()
    if command == "setup":
        _setup()
    elif command == "report":
        print(json.dumps(_report()))
    elif command == "worker":
        _register_app_commands()
        app(["worker"])
    else:
        raise SystemExit(f"unknown command {command!r}")


# --- a worker killed mid-task ------------------------------------------------------------------------------


def _wait_for(predicate, timeout: float, what: str):  # noqa: ANN001, ANN202
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.3)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.mark.parametrize("postgres", ENGINES)
def test_a_worker_killed_mid_task_has_the_task_run_again_exactly_once(tmp_path, postgres):
    marker, gate = tmp_path / "marker", tmp_path / "gate"
    with installations(tmp_path, postgres=postgres) as make:
        inst = make("worker", TONGBAN_FAULTS_MARKER=str(marker), TONGBAN_FAULTS_GATE=str(gate),
                    TONGBAN_TASK_LEASE_SECONDS=str(LEASE_SECONDS), TONGBAN_TASK_RECOVERY_SECONDS="1")
        module = "tongban.tests.test_faults"

        def report() -> dict:
            return json.loads(inst.module(module, "report").stdout.strip().splitlines()[-1])

        def starts() -> list[str]:
            return [line for line in marker.read_text().splitlines() if line.startswith("start")] \
                if marker.exists() else []

        inst.tongban("migrate")
        inst.module(module, "setup")
        gate.touch()
        workers = [inst.popen([sys.executable, "-m", module, "worker"], tmp_path / "worker1.log")]
        try:
            _wait_for(lambda: starts(), 120, "the handler to start in the first worker")
            time.sleep(0.5)
            workers[0].send_signal(signal.SIGKILL)
            workers[0].wait(timeout=30)
            killed = report()
            assert killed["effects"] == 0 and killed["tasks"] == [], killed
            assert [r["status"] for r in killed["runs"]] == ["RUNNING"], killed

            gate.unlink()
            workers.append(inst.popen([sys.executable, "-m", module, "worker"], tmp_path / "worker2.log"))
            _wait_for(lambda: report()["effects"], 120, "the task to run again in the second worker")
            time.sleep(LEASE_SECONDS + 3)  # long enough for any further (wrong) re-run
            done = report()
        finally:
            for worker in workers:
                if worker.poll() is None:
                    worker.terminate()
                    try:
                        worker.wait(timeout=20)
                    except subprocess.TimeoutExpired:
                        worker.kill()
                        worker.wait()
    log = (tmp_path / "worker2.log").read_text(errors="replace")
    assert done["effects"] == 1, (done, log)
    assert len(done["runs"]) == 1 and done["runs"][0]["status"] == "SUCCESSFUL", (done, log)
    assert len(done["runs"][0]["workers"]) == 2, done  # the killed run and exactly one re-run
    assert done["tasks"] == ["review"], done
    assert done["variables"]["effect_by"] == workers[1].pid
    lines = marker.read_text().splitlines()
    assert lines == [f"start {workers[0].pid}", f"start {workers[1].pid}", f"end {workers[1].pid}"], lines


if __name__ == "__main__":
    _main(sys.argv[1] if len(sys.argv) > 1 else "")

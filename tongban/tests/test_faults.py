"""Faults survived: a worker killed in the middle of a task, database connections cut during a burst of
submissions. (Backup and restore: ``tongban/core/tests/test_backup.py``.)

Run as a module, this file is the small program the worker test drives in subprocesses::

    python -m tongban.tests.test_faults setup|worker|report

It registers the service-task handler ``faults.gate``, which notes each start in a marker file, waits while a gate
file exists, then writes its effect (an audit record) in the engine's transaction.
"""

from __future__ import annotations

import json
import logging
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


# --- database connections cut during a burst of submissions (PostgreSQL) -----------------------------------------

CITIZENS = 4
DRAFTS_EACH = 8
FORM = {"applicant_name": "测试申请人"}


@pytest.fixture
def bundle_catalogue(demo_core):
    """A bundle of two fully-online items of two departments (no materials: submitting accepts at once and
    starts the bundle process with one child process per item), and citizens with bearer tokens."""
    from tongban.applications.workflow_bridge import deploy_processes
    from tongban.catalog.models import Bundle, BundleItem, ServiceItem
    from tongban.core import services
    from tongban.core.demo import DEMO_PASSWORD
    from tongban.core.models import Organisation, User

    bundle = Bundle.objects.create(code="F-BUNDLE", name="故障测试一件事", promised_limit_days=7)
    for order, org in enumerate(("yx-scjg", "yx-xf"), start=1):
        dept = Organisation.objects.get(code=org)
        item = ServiceItem.objects.create(
            code=f"F-ITEM-{order}", name=f"故障测试事项{order}", item_type="licensing", competent_department=dept,
            implementing_org=dept, exercise_level="city", statutory_limit_days=20, promised_limit_days=5,
            online_level="fully_online", result_name="决定书",
            form_schema={"type": "object", "properties": {"applicant_name": {"type": "string", "minLength": 1}},
                         "required": ["applicant_name"]})
        BundleItem.objects.create(bundle=bundle, item=item, order=order)
    deploy_processes()
    for n in range(CITIZENS):
        services.upsert_user(f"citizen{n}", password=DEMO_PASSWORD, kind=User.Kind.NATURAL_PERSON,
                             display_name=f"市民{n}", id_number=f"91010219900101{n:03d}X")
    return bundle


def _case_problems(ref: str) -> tuple[str, list[str]]:
    """``("draft" | "complete", [])`` for a whole case, else ``("half", [what is inconsistent])``."""
    from tongban.applications import files
    from tongban.applications.models import Application, Notice
    from tongban.workflow.models import ProcessInstance, Task

    app = Application.objects.get(ref=ref)
    items = list(app.items.all())
    kinds = list(app.events.values_list("kind", flat=True))
    notices = list(app.notices.select_related("file"))
    if app.status == Application.Status.DRAFT:
        problems = [p for p, bad in [
            ("submitted_at set", app.submitted_at is not None), ("accepted_at set", app.accepted_at is not None),
            ("process instance set", app.process_instance_id is not None), ("has notices", bool(notices)),
            ("submit events", "submitted" in kinds or "accepted" in kinds),
            ("items not pending", any(i.status != "pending" or i.process_instance_id for i in items)),
        ] if bad]
        return ("half", problems) if problems else ("draft", [])
    problems = []
    if app.status != Application.Status.IN_REVIEW or not app.submitted_at or not app.accepted_at:
        problems.append(f"status {app.status} submitted {app.submitted_at} accepted {app.accepted_at}")
    root = ProcessInstance.objects.filter(pk=app.process_instance_id, status="running").first()
    if root is None:
        problems.append("no running process instance")
    children = {c.pk: c for c in ProcessInstance.objects.filter(root_id=app.process_instance_id or 0)}
    for item in items:
        if item.status != "in_review" or item.process_instance_id not in children:
            problems.append(f"item {item.pk}: {item.status}, instance {item.process_instance_id}")
    open_tasks = Task.objects.filter(instance_id__in=list(children), state__in=["open", "claimed"]).count()
    if open_tasks != len(items):
        problems.append(f"{open_tasks} open tasks for {len(items)} items")
    accept = [n for n in notices if n.kind == Notice.Kind.ACCEPTANCE]
    if len(accept) != 1 or not files.blob_path(accept[0].file.sha256).is_file():
        problems.append(f"{len(accept)} acceptance notices (or its file missing)")
    if kinds.count("submitted") != 1 or kinds.count("accepted") != 1:
        problems.append(f"events {kinds}")
    return ("half", problems) if problems else ("complete", [])


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(postgres_base_url() is None, reason="needs PostgreSQL (pg_terminate_backend)")
def test_cut_connections_lose_no_acknowledged_submission_and_leave_no_half_written_case(bundle_catalogue, caplog):
    import psycopg
    from django.db import close_old_connections, connection, connections

    from tongban.applications.models import Application
    from tongban.testing import Api
    from tongban.workflow.models import ProcessInstance

    caplog.set_level(logging.CRITICAL, logger="django.request")  # the expected 500s are not news
    apis = [Api(f"citizen{n}") for n in range(CITIZENS)]
    for api in apis:
        # A server error is the answer (500), not an exception in the calling thread: Django's test client takes
        # every request exception signalled in the process as its own, so threads would see each other's.
        api.client.raise_request_exception = False
    drafts = [[ok["ref"] for ok in (api.post("/api/applications", {"bundle_code": "F-BUNDLE"}).json()
                                    for _ in range(DRAFTS_EACH))] for api in apis]
    answers: dict[str, object] = {}
    settings = connection.settings_dict
    conninfo = {"dbname": settings["NAME"], "user": settings["USER"], "host": settings["HOST"],
                "port": settings["PORT"] or 5432, "password": settings["PASSWORD"] or None}
    # how long one submission takes here, undisturbed: connections are cut at intervals of that order
    extra = apis[0].post("/api/applications", {"bundle_code": "F-BUNDLE"}).json()["ref"]
    started = time.monotonic()
    assert apis[0].post(f"/api/applications/{extra}/submit", {"form_data": FORM}).status_code == 200
    duration = time.monotonic() - started
    connections.close_all()  # this thread's connection would be cut too
    done = threading.Event()
    kills: list[int] = []

    def submit_all(api: Api, refs: list[str]) -> None:
        for ref in refs:
            close_old_connections()  # what the server does at each request's start and end
            try:
                answers[ref] = api.post(f"/api/applications/{ref}/submit", {"form_data": FORM}).status_code
            finally:
                close_old_connections()
        connections.close_all()

    def cut_connections() -> None:
        """Terminate one of the platform's connections (at random) every 0.2 to 2 submission durations."""
        with psycopg.connect(**{k: v for k, v in conninfo.items() if v}, autocommit=True) as killer:
            while not done.wait(random.uniform(0.2, 2.0) * duration):
                kills.append(killer.execute(
                    "SELECT count(pg_terminate_backend(pid)) FROM (SELECT pid FROM pg_stat_activity"
                    " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                    " AND backend_type = 'client backend' ORDER BY random() LIMIT 1) AS victim").fetchone()[0])

    killer = threading.Thread(target=cut_connections)
    threads = [threading.Thread(target=submit_all, args=(api, refs)) for api, refs in zip(apis, drafts, strict=True)]
    killer.start()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    done.set()
    killer.join()
    connection.close()

    acknowledged = [ref for ref, answer in answers.items() if answer == 200]
    failed = [ref for ref, answer in answers.items() if answer != 200]
    assert sum(kills) > 0 and failed and acknowledged, (kills, answers)  # faults happened, and not to every one
    states = {ref: _case_problems(ref) for ref in answers}
    half = {ref: state for ref, state in states.items() if state[0] == "half"}
    assert not half, half
    assert all(states[ref][0] == "complete" for ref in acknowledged), states
    # every process instance belongs to a complete case (none was started for a submission that was lost)
    complete = {ref for ref, state in states.items() if state[0] == "complete"}
    roots = set(ProcessInstance.objects.filter(parent__isnull=True, process_key="tongban_bundle")
                .values_list("business_key", flat=True))
    assert roots == complete | {extra}

    # the applicant tries the refused ones again: each is submitted now, or was already (the cut came after the
    # commit: 409), and then every case is complete
    for api, refs in zip(apis, drafts, strict=True):
        for ref in refs:
            if ref in failed:
                again = api.post(f"/api/applications/{ref}/submit", {"form_data": FORM})
                assert again.status_code == (409 if states[ref][0] == "complete" else 200), again.content
    assert {_case_problems(ref)[0] for ref in answers} == {"complete"}
    assert Application.objects.filter(status="in_review").count() == CITIZENS * DRAFTS_EACH + 1


if __name__ == "__main__":
    _main(sys.argv[1] if len(sys.argv) > 1 else "")

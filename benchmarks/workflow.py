"""Workflow engine benchmark: tongban vs SpiffWorkflow on the same BPMN process, same database, same run.

    python benchmarks/workflow.py --instances N [--concurrency K] [--database-url URL] [--rounds R] [--floor]

The process (one file both engines accept): start → parallel fork → three departmental user tasks (市场监管,
消防, 城管) → join → DMN decision (business rule task) → end. Each instance takes four steps: start, then the
three approvals (the third one also runs the join, the decision and the end). Every step is what a web request
does in a server: read the instance's state from the database, apply the step, persist the new state — in both
engines:

- tongban: every step is one ``services`` call = one transaction on its relational tables (instance, tokens,
  tasks, events), with the real permission checks (each approver holds the role in their department);
- SpiffWorkflow 3.x (``BpmnWorkflow`` from the Camunda-flavoured parser, its DMN engine): every step restores
  the workflow from its row (``BpmnWorkflowSerializer``), runs the task and the engine steps, serialises the
  workflow and writes the JSON back to the row, in a transaction. This is the baseline of the last line.
- "SpiffWorkflow in memory" (informational): the same, but the workflow object stays in the benchmark's memory
  between steps and is only written (a server cannot do this: approvals of one case arrive over days, at any
  of its processes). Its ratio is printed too.

Transitions = BPMN flow nodes completed (start, fork, 3 tasks, join, decision, end = 8 per instance in both).
The engines run in ``--rounds`` rounds (default 3), each engine N instances per round in rotating order; each
row reports the median round, which keeps a burst of load on the machine from deciding the ratio.
With ``--concurrency K`` each round runs the N instances of each engine in K forked processes at once (N/K each,
their own database connection, released together); transitions/s is then over the wall-clock time of the round.
The script builds its own scratch database: a temporary SQLite file by default, or the database named by
``--database-url`` (created if missing, tables via ``migrate``). It never touches ``var/``.
Last line of output: ``ratio_vs_spiffworkflow=X.XX`` (tongban transitions/s ÷ SpiffWorkflow's, both stateless).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

BPMN = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:camunda="http://camunda.org/schema/1.0/bpmn" xmlns:tongban="https://tongban.org/schema/bpmn"
    id="bench_defs" targetNamespace="https://tongban.org/benchmark">
  <bpmn:process id="bench_joint" name="并联审批基准" isExecutable="true">
    <bpmn:startEvent id="start"/>
    <bpmn:parallelGateway id="fork"/>
    <bpmn:userTask id="scjg" name="市场监管局审查" tongban:candidateRole="approver" tongban:candidateOrg="yx-scjg"
        tongban:outcomes="approve,reject" tongban:limitDays="5"/>
    <bpmn:userTask id="xf" name="消防救援支队审查" tongban:candidateRole="approver" tongban:candidateOrg="yx-xf"
        tongban:outcomes="approve,reject" tongban:limitDays="5"/>
    <bpmn:userTask id="cg" name="城管局审查" tongban:candidateRole="approver" tongban:candidateOrg="yx-cg"
        tongban:outcomes="approve,reject" tongban:limitDays="5"/>
    <bpmn:parallelGateway id="join"/>
    <bpmn:businessRuleTask id="decide" name="审批决定" camunda:decisionRef="bench_decision"
        tongban:decisionRef="bench_decision" tongban:resultVariable="decision"/>
    <bpmn:endEvent id="end"/>
    <bpmn:sequenceFlow id="f0" sourceRef="start" targetRef="fork"/>
    <bpmn:sequenceFlow id="f1" sourceRef="fork" targetRef="scjg"/>
    <bpmn:sequenceFlow id="f2" sourceRef="fork" targetRef="xf"/>
    <bpmn:sequenceFlow id="f3" sourceRef="fork" targetRef="cg"/>
    <bpmn:sequenceFlow id="f4" sourceRef="scjg" targetRef="join"/>
    <bpmn:sequenceFlow id="f5" sourceRef="xf" targetRef="join"/>
    <bpmn:sequenceFlow id="f6" sourceRef="cg" targetRef="join"/>
    <bpmn:sequenceFlow id="f7" sourceRef="join" targetRef="decide"/>
    <bpmn:sequenceFlow id="f8" sourceRef="decide" targetRef="end"/>
  </bpmn:process>
</bpmn:definitions>
"""

# Empty input entries mean "any" in both engines; string literals are FEEL and Python alike.
DMN = """<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="bench_dmn" name="bench"
    namespace="https://tongban.org/benchmark">
  <decision id="bench_decision" name="审批决定">
    <decisionTable id="bench_table" hitPolicy="UNIQUE">
      <input id="i1" label="市场监管"><inputExpression id="e1" typeRef="string"><text>scjg_outcome</text></inputExpression></input>
      <input id="i2" label="消防"><inputExpression id="e2" typeRef="string"><text>xf_outcome</text></inputExpression></input>
      <input id="i3" label="城管"><inputExpression id="e3" typeRef="string"><text>cg_outcome</text></inputExpression></input>
      <output id="o1" name="decision" typeRef="string"/>
      <rule id="r1"><inputEntry id="r1a"><text>"approve"</text></inputEntry><inputEntry id="r1b"><text>"approve"</text></inputEntry><inputEntry id="r1c"><text>"approve"</text></inputEntry><outputEntry id="r1o"><text>"grant"</text></outputEntry></rule>
      <rule id="r2"><inputEntry id="r2a"><text>"reject"</text></inputEntry><inputEntry id="r2b"><text></text></inputEntry><inputEntry id="r2c"><text></text></inputEntry><outputEntry id="r2o"><text>"deny"</text></outputEntry></rule>
      <rule id="r3"><inputEntry id="r3a"><text>"approve"</text></inputEntry><inputEntry id="r3b"><text>"reject"</text></inputEntry><inputEntry id="r3c"><text></text></inputEntry><outputEntry id="r3o"><text>"deny"</text></outputEntry></rule>
      <rule id="r4"><inputEntry id="r4a"><text>"approve"</text></inputEntry><inputEntry id="r4b"><text>"approve"</text></inputEntry><inputEntry id="r4c"><text>"reject"</text></inputEntry><outputEntry id="r4o"><text>"deny"</text></outputEntry></rule>
    </decisionTable>
  </decision>
</definitions>
"""

DEPARTMENTS = [("scjg", "approver-scjg"), ("xf", "approver-xf"), ("cg", "approver-cg")]


def outcomes_for(n: int) -> dict[str, str]:
    """Every seventh instance has one rejection, so that both decision branches run."""
    out = {"scjg": "approve", "xf": "approve", "cg": "approve"}
    if n % 7 == 6:
        out["xf"] = "reject"
    return out


def ensure_postgres_database(url: str) -> None:
    import dj_database_url
    import psycopg
    from psycopg import sql

    cfg = dj_database_url.parse(url)
    if "postgresql" not in cfg["ENGINE"]:
        return
    conninfo = {"host": cfg.get("HOST") or None, "port": cfg.get("PORT") or None, "user": cfg.get("USER") or None,
                "password": cfg.get("PASSWORD") or None, "dbname": "postgres"}
    with psycopg.connect(**{k: v for k, v in conninfo.items() if v}, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [cfg["NAME"]]).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(cfg["NAME"])))


def setup(database_url: str | None, home: Path) -> None:
    os.environ["TONGBAN_HOME"] = str(home)
    os.environ.pop("DATABASE_URL", None)
    if database_url:
        ensure_postgres_database(database_url)
        os.environ["DATABASE_URL"] = database_url
    os.environ["DJANGO_SETTINGS_MODULE"] = "tongban.settings"
    os.environ.setdefault("TONGBAN_LOG_LEVEL", "ERROR")
    import django
    from django.conf import settings

    django.setup()
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # scratch accounts only
    from django.core.management import call_command
    from rich.console import Console

    call_command("migrate", interactive=False, verbosity=0)
    from tongban.core import demo

    demo.load(Console(quiet=True))
    from django.db import connection

    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            cur.execute("CREATE TABLE IF NOT EXISTS bench_spiff_state (id serial PRIMARY KEY, "
                        "business_key varchar(100) NOT NULL, state text NOT NULL)")
        else:
            cur.execute("CREATE TABLE IF NOT EXISTS bench_spiff_state (id integer PRIMARY KEY AUTOINCREMENT, "
                        "business_key varchar(100) NOT NULL, state text NOT NULL)")


class QueryCounter:
    def __init__(self) -> None:
        self.count = 0

    def __call__(self, execute, sql, params, many, context):  # noqa: ANN001
        self.count += 1
        return execute(sql, params, many, context)


def run_tongban(n: int, prefix: str, ready: Callable[[], None] = lambda: None) -> tuple[int, float, int]:
    from django.db import connection

    from tongban.core import store
    from tongban.core.models import User
    from tongban.workflow import services
    from tongban.workflow.models import Event, ProcessInstance

    if not FORKED[0]:  # deployed by the parent before the processes are forked
        services.deploy_decisions(DMN, "bench.dmn")
        services.deploy(BPMN, "bench.bpmn")
    users = {u.username: u for u in User.objects.filter(username__in=[d[1] for d in DEPARTMENTS])}
    counter = QueryCounter()
    statements = store.STATEMENTS[0]
    ready()
    started = time.perf_counter()
    ids = []
    with connection.execute_wrapper(counter):
        for i in range(n):
            inst = services.start("bench_joint", f"{prefix}-{i}")
            ids.append(inst.pk)
            tasks = {t.element_id: t for t in inst.created_tasks}  # what the start opened (cf. Spiff's READY tasks)
            outcomes = outcomes_for(i)
            for element, username in DEPARTMENTS:
                services.complete(tasks[element], users[username], outcomes[element])
    elapsed = time.perf_counter() - started
    counter.count += store.STATEMENTS[0] - statements  # the engine's own statements bypass Django's cursor
    done = ProcessInstance.objects.filter(pk__in=ids, status="completed").count()
    if done != n:
        raise SystemExit(f"tongban: only {done} of {n} instances completed")
    transitions = Event.objects.filter(instance_id__in=ids, type="element.completed").count()
    return transitions, elapsed, counter.count


def run_spiff(n: int, prefix: str, reload: bool = False, ready: Callable[[], None] = lambda: None
              ) -> tuple[int, float, int]:
    """SpiffWorkflow saving its serialised workflow to a row after every step. With ``reload`` every step first
    restores the workflow from that row, as a stateless server does (tongban reads its state from the database
    on every step); without it the workflow object stays in the benchmark's memory (informational)."""
    from django.db import connection, transaction
    from SpiffWorkflow.bpmn.serializer.workflow import BpmnWorkflowSerializer
    from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
    from SpiffWorkflow.camunda.parser.CamundaParser import CamundaParser
    from SpiffWorkflow.camunda.serializer.config import CAMUNDA_CONFIG
    from SpiffWorkflow.util.task import TaskState

    tmp = Path(tempfile.mkdtemp(prefix="spiff-bench-"))
    try:
        (tmp / "bench.bpmn").write_text(BPMN, encoding="utf-8")
        (tmp / "bench.dmn").write_text(DMN, encoding="utf-8")
        parser = CamundaParser()
        parser.add_bpmn_file(str(tmp / "bench.bpmn"))
        parser.add_dmn_file(str(tmp / "bench.dmn"))
        spec = parser.get_spec("bench_joint")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    serializer = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(CAMUNDA_CONFIG))
    counter = QueryCounter()
    transitions = 0
    decisions = {"grant": 0, "deny": 0}
    ready()

    def persist(row_id: int | None, business_key: str, workflow: BpmnWorkflow) -> int:
        state = serializer.serialize_json(workflow)
        with transaction.atomic(), connection.cursor() as cur:
            if row_id is None:
                if connection.vendor == "postgresql":
                    cur.execute("INSERT INTO bench_spiff_state (business_key, state) VALUES (%s, %s) RETURNING id",
                                [business_key, state])
                    return cur.fetchone()[0]
                cur.execute("INSERT INTO bench_spiff_state (business_key, state) VALUES (%s, %s)",
                            [business_key, state])
                return cur.lastrowid
            cur.execute("UPDATE bench_spiff_state SET state = %s WHERE id = %s", [state, row_id])
            return row_id

    started = time.perf_counter()
    with connection.execute_wrapper(counter):
        for i in range(n):
            bk = f"{prefix}-{i}"
            workflow = BpmnWorkflow(spec)
            workflow.do_engine_steps()
            row = persist(None, bk, workflow)
            outcomes = outcomes_for(i)
            for element, _username in DEPARTMENTS:
                if reload:
                    with connection.cursor() as cur:
                        cur.execute("SELECT state FROM bench_spiff_state WHERE id = %s", [row])
                        workflow = serializer.deserialize_json(cur.fetchone()[0])
                task = next(t for t in workflow.get_tasks(state=TaskState.READY, manual=True)
                            if t.task_spec.bpmn_id == element)
                task.data[f"{element}_outcome"] = outcomes[element]
                task.run()
                workflow.do_engine_steps()
                persist(row, bk, workflow)
            if not workflow.is_completed():
                raise SystemExit(f"SpiffWorkflow: instance {bk} did not complete")
            decisions[workflow.data.get("decision", "?")] = decisions.get(workflow.data.get("decision", "?"), 0) + 1
            transitions += sum(1 for t in workflow.get_tasks(state=TaskState.COMPLETED)
                               if getattr(t.task_spec, "bpmn_id", None))
    elapsed = time.perf_counter() - started
    expected_deny = sum(1 for i in range(n) if "reject" in outcomes_for(i).values())
    if decisions.get("deny", 0) != expected_deny:
        raise SystemExit(f"SpiffWorkflow: unexpected decisions {decisions}")
    return transitions, elapsed, counter.count


def measure_floor(repeat: int = 1000) -> tuple[float, float]:
    """Milliseconds per step of the bare SQL of one tongban completion — what the engine sends: lock and read
    the task with its instance and live tokens, update the task, a token and the instance, insert an event,
    commit — and of one stateless SpiffWorkflow step's SQL (read the 12 KB row, write it back, commit): what the
    database costs before any engine work. Each repetition takes another task and another Spiff row of the
    benchmark's instances, as the real steps do."""
    from django.db import connection, transaction
    from django.utils import timezone

    from tongban.core import store
    from tongban.workflow.models import Task

    tasks = list(Task.objects.filter(token__isnull=False).order_by("-id").values_list("id", "instance_id",
                                                                                      "token_id")[:repeat])
    with connection.cursor() as cur:
        cur.execute("SELECT id FROM bench_spiff_state ORDER BY id DESC LIMIT %s", [repeat])
        spiff_rows = [r[0] for r in cur.fetchall()]
    q = connection.ops.quote_name
    lock = " FOR UPDATE" if connection.vendor == "postgresql" else ""
    at = store.preparer(Task, "created_at")(timezone.now())

    def step(i: int) -> None:
        task, inst, tok = tasks[i % len(tasks)]
        with transaction.atomic():
            with store.pipeline():
                store.execute(f"SELECT * FROM {q('workflow_task')} t JOIN {q('workflow_processinstance')} i "
                              f"ON i.id = t.instance_id WHERE t.id = %s{lock}", [task])
                store.execute(f"SELECT * FROM {q('workflow_token')} WHERE instance_id = %s AND state <> %s",
                              [inst, "done"])
            with store.pipeline():
                store.execute(f"UPDATE {q('workflow_task')} SET outcome = outcome WHERE id = %s", [task])
                store.execute(f"UPDATE {q('workflow_token')} SET element_id = element_id WHERE id = %s", [tok])
                store.execute(f"UPDATE {q('workflow_processinstance')} SET business_key = business_key "
                              "WHERE id = %s", [inst])
                store.execute(f"INSERT INTO {q('workflow_event')} (instance_id, element_id, type, actor_label, at, "
                              "data) VALUES (%s, %s, %s, %s, %s, %s)", [inst, "x", "floor", "bench", at, "{}"])

    def spiff_step(i: int) -> None:
        row = spiff_rows[i % len(spiff_rows)]
        with transaction.atomic(), connection.cursor() as c:
            c.execute("SELECT state FROM bench_spiff_state WHERE id = %s", [row])
            state = c.fetchone()[0]
            c.execute("UPDATE bench_spiff_state SET state = %s WHERE id = %s", [state, row])

    out = []
    for fn in (step, spiff_step):
        started = time.perf_counter()
        for i in range(repeat):
            fn(i)
        out.append((time.perf_counter() - started) * 1000 / repeat)
    return out[0], out[1]


ENGINES = (
    ("tongban", lambda n, prefix, ready=lambda: None: run_tongban(n, prefix, ready)),
    ("SpiffWorkflow", lambda n, prefix, ready=lambda: None: run_spiff(n, prefix, reload=True, ready=ready)),
    ("Spiff in memory*", lambda n, prefix, ready=lambda: None: run_spiff(n, prefix, ready=ready)),
)
FORKED = [False]  # in a child process of --concurrency


def run_concurrently(run: Callable[..., tuple[int, float, int]], n: int, prefix: str, k: int
                     ) -> tuple[int, float, int]:
    """``run`` in ``k`` forked processes (n/k instances each, own database connection), released together once
    all are ready; the wall-clock time from the release until the last one is done, transitions and statements
    summed."""
    from django.db import connections

    if k == 1:
        return run(n, prefix)
    connections.close_all()  # every child opens its own connection
    go_r, go_w = os.pipe()
    children = []
    for j in range(k):
        ready_r, ready_w = os.pipe()
        out_r, out_w = os.pipe()
        pid = os.fork()
        if pid == 0:  # child
            code = 0
            try:
                FORKED[0] = True
                os.close(go_w)

                def ready(ready_w: int = ready_w) -> None:
                    os.write(ready_w, b"r")
                    os.read(go_r, 1)

                share = n // k + (1 if j < n % k else 0)
                result = run(share, f"{prefix}-p{j}", ready)
                os.write(out_w, json.dumps(result).encode())
            except BaseException as exc:  # noqa: BLE001
                os.write(out_w, json.dumps({"error": f"{type(exc).__name__}: {exc}"}).encode())
                code = 1
            finally:
                connections.close_all()
                os._exit(code)
        os.close(ready_w)
        os.close(out_w)
        children.append((pid, ready_r, out_r))
    os.close(go_r)
    for _pid, ready_r, _out in children:
        if os.read(ready_r, 1) != b"r":
            raise SystemExit("a benchmark process failed before it was ready")
    started = time.perf_counter()
    os.write(go_w, b"g" * k)
    results = []
    for pid, ready_r, out_r in children:
        chunks = []
        while chunk := os.read(out_r, 65536):
            chunks.append(chunk)
        os.waitpid(pid, 0)
        os.close(ready_r)
        os.close(out_r)
        results.append(json.loads(b"".join(chunks) or b'{"error": "no result"}'))
    elapsed = time.perf_counter() - started
    os.close(go_w)
    errors = [r["error"] for r in results if isinstance(r, dict)]
    if errors:
        raise SystemExit(f"benchmark process failed: {errors[0]}")
    return sum(r[0] for r in results), elapsed, sum(r[2] for r in results)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--instances", type=int, default=200, help="process instances per engine and round "
                                                                   "(default 200)")
    parser.add_argument("--database-url", default=None,
                        help="e.g. postgres://postgres@127.0.0.1:5432/tongban_bench (default: temporary SQLite)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds per engine; the median round counts "
                                                              "(default 3)")
    parser.add_argument("--warmup", type=int, default=5, help="instances per engine run first and not timed")
    parser.add_argument("--concurrency", type=int, default=1,
                        help="K forked processes per engine, running the instances of a round together (default 1)")
    parser.add_argument("--floor", action="store_true",
                        help="also measure the bare SQL cost of one step for each engine (no engine work)")
    args = parser.parse_args()
    if args.instances < 1:
        parser.error("--instances must be at least 1")
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    if args.concurrency < 1 or args.concurrency > args.instances:
        parser.error("--concurrency must be between 1 and --instances")
    home = Path(tempfile.mkdtemp(prefix="tongban-bench-"))
    try:
        setup(args.database_url, home)
        from django.db import connection

        if args.warmup:
            for _name, run in ENGINES:
                run(args.warmup, f"warm-{_name}")
        stamp = int(time.time())
        rounds: dict[str, list[tuple[int, float, int]]] = {name: [] for name, _ in ENGINES}
        for r in range(args.rounds):
            order = ENGINES[r % len(ENGINES):] + ENGINES[:r % len(ENGINES)]
            for name, run in order:
                rounds[name].append(run_concurrently(run, args.instances, f"bench-{stamp}-{r}-{name}",
                                                     args.concurrency))
        steps = args.instances * 4
        results = {}
        for name, runs in rounds.items():
            ordered = sorted(runs, key=lambda x: x[0] / x[1])  # by transitions/s
            results[name] = ordered[len(ordered) // 2]
        db = f"{connection.vendor} ({connection.settings_dict['NAME']})"
        load = os.getloadavg()
        print(f"workflow benchmark: {args.instances} instances per engine and round, {args.rounds} rounds "
              f"(median shown), {steps} persisted steps per round, {args.concurrency} process(es) per engine, "
              f"database {db}, load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
        print(f"{'engine':<17}{'transitions':>12}{'seconds':>10}{'transitions/s':>15}{'ms/step':>10}"
              f"{'queries/step':>14}")
        for name, (trans, secs, queries) in results.items():
            print(f"{name:<17}{trans:>12}{secs:>10.2f}{trans / secs:>15.1f}{secs * 1000 / steps:>10.2f}"
                  f"{queries / steps:>14.1f}")
        rate = {name: trans / secs for name, (trans, secs, _q) in results.items()}
        if args.floor:
            t_floor, s_floor = measure_floor()
            spiff_ms = results["SpiffWorkflow"][1] * 1000 / steps
            print(f"floor (bare SQL + commit, no engine work): tongban step {t_floor:.3f} ms, SpiffWorkflow step "
                  f"{s_floor:.3f} ms; best possible ratio for a zero-cost tongban engine = {spiff_ms / t_floor:.2f}")
        print("* informational: SpiffWorkflow keeping the workflow object in memory between steps (not possible "
              "in a server)")
        print(f"ratio_vs_spiffworkflow_in_memory={rate['tongban'] / rate['Spiff in memory*']:.2f}")
        print(f"ratio_vs_spiffworkflow={rate['tongban'] / rate['SpiffWorkflow']:.2f}")
    finally:
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()

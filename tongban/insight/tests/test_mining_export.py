"""Event-log export: a hand-built log written as XES and OCEL 2.0 and read back with pm4py."""

from __future__ import annotations

import json

import pm4py
import pytest
import typer
from typer.testing import CliRunner

from tongban.insight import cli
from tongban.insight.mining.errors import MiningError, NotFound
from tongban.insight.mining.eventlog import build_log
from tongban.insight.mining.export import write

from . import mining_log as ml

pytestmark = pytest.mark.django_db


@pytest.fixture
def cases(demo_core):
    return ml.build_all()


def test_build_log_has_the_hand_built_traces(cases):
    log = build_log(ml.KEY)
    traces = {c.business_key: [a.activity for a in log.traces()[c.case_id]] for c in log.cases}
    assert traces == {
        "C1": ["受理", "审查", "现场核查", "消防核查", "决定"],
        "C2": ["受理", "审查", "补正材料", "审查", "现场核查", "消防核查", "决定"],
        "C3": ["受理", "审查", "现场核查", "消防核查"],
    }
    c1 = next(c for c in log.cases if c.business_key == "C1")
    review = next(a for a in log.traces()[c1.case_id] if a.element_id == "review")
    assert review.waiting.total_seconds() == 24 * 3600 and review.working.total_seconds() == 2 * 3600
    fire = next(a for a in log.traces()[c1.case_id] if a.element_id == "fire")
    assert fire.org_code == "yx-xf" and fire.outcome == "pass"


def test_xes_round_trip_through_pm4py(cases, tmp_path):
    path = tmp_path / "log.xes"
    n = write(build_log(ml.KEY), path, "xes")
    assert n == 16
    df = pm4py.read_xes(str(path))
    assert len(df) == 16
    assert df["case:concept:name"].nunique() == 3
    by_case = df.sort_values("time:timestamp").groupby("case:concept:name")["concept:name"].apply(list)
    by_key = dict(zip(df.groupby("case:concept:name")["case:business_key"].first(), by_case, strict=True))
    assert by_key["C2"] == ["受理", "审查", "补正材料", "审查", "现场核查", "消防核查", "决定"]
    assert set(df["lifecycle:transition"]) == {"complete"}
    assert "start_timestamp" in df.columns and "org:group" in df.columns
    # the XES log discovers (the pm4py reading is a real log)
    variants = pm4py.get_variants(df)
    assert len(variants) == 3


def test_ocel2_round_trip_through_pm4py(cases, tmp_path):
    path = tmp_path / "log.jsonocel"
    n = write(build_log(ml.KEY), path, "ocel")
    assert n == 16
    assert json.loads(path.read_text(encoding="utf-8"))["objectTypes"]  # OCEL 2.0 JSON
    ocel = pm4py.read_ocel2_json(str(path))
    assert len(ocel.events) == 16
    types = ocel.objects.groupby("ocel:type")["ocel:oid"].nunique().to_dict()
    assert types["流程实例"] == 3 and types["任务"] == 16
    assert types["机构"] == 3  # 政务服务中心, 市场监管局, 消防救援支队 (补正材料 has no candidate department)
    fire_events = set(ocel.events.loc[ocel.events["ocel:activity"] == "消防核查", "ocel:eid"])
    orgs = ocel.relations[ocel.relations["ocel:eid"].isin(fire_events) & (ocel.relations["ocel:type"] == "机构")]
    assert set(orgs["ocel:oid"]) == {"org-yx-xf"}


def test_unknown_process_and_missing_scope_are_refused(db):
    with pytest.raises(NotFound):
        build_log("no_such_process")
    with pytest.raises(NotFound):
        build_log(item_code="NO-SUCH-ITEM")
    with pytest.raises(MiningError):
        build_log()


@pytest.fixture
def app() -> typer.Typer:
    root = typer.Typer()
    cli.register(root)

    @root.callback()
    def main() -> None:
        """(a group)"""

    return root


def test_cli_export_log(cases, tmp_path, app):
    runner = CliRunner()
    out = tmp_path / "log.xes"
    result = runner.invoke(app, ["insight", "export-log", "--process", ml.KEY, "--format", "xes", str(out)])
    assert result.exit_code == 0, result.output
    assert result.output.strip().splitlines()[-1] == f"cases=3 events=16 file={out}"
    assert len(pm4py.read_xes(str(out))) == 16
    ocel = tmp_path / "log.json"
    result = runner.invoke(app, ["insight", "export-log", "--process", ml.KEY, "--format", "ocel", str(ocel)])
    assert result.exit_code == 0, result.output
    assert len(pm4py.read_ocel2_json(str(ocel)).events) == 16
    bad = tmp_path / "bad.xes"
    result = runner.invoke(app, ["insight", "export-log", "--process", "nope", "--format", "xes", str(bad)])
    assert result.exit_code == 1 and "insight.unknown_process" in result.output and not bad.exists()
    result = runner.invoke(app, ["insight", "export-log", "--process", ml.KEY, "--format", "csv", str(bad)])
    assert result.exit_code == 1 and not bad.exists()

"""Every indicator of the shipped file computed on the hand-built log of ``world.py`` (March 2026), with the
expected value worked out by hand next to it."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from tongban.insight.errors import BadPeriod, NotFound
from tongban.insight.indicators import compute, current, drill, figures_json, parse_period

from . import world

pytestmark = pytest.mark.django_db

# March 2026, whole platform. Closed items: R1/A1, R2/A1, R3/A0, R7/A1, R7/B1 (5; R8 closed in February).
EXPECTED_ALL = {
    # on time: R1, R3, R7/A1, R7/B1 (R2 decided 03-16 after its due date 03-12) → 4 of 5 clocked
    "on_time_rate": 80.0,
    # working days used: R1 4 + R2 7 + R3 0 + R7/A1 3 + R7/B1 8 = 22 over 5
    "mean_workdays_used": 4.4,
    # 22 used over limits 5 + 5 + 0 + 5 + 10 = 25
    "time_used_ratio": 88.0,
    # R3's item A0 promises 0 days: 1 of 5
    "immediate_share": 20.0,
    # online and no visit: R1, R7/A1, R7/B1 → 3 of 5
    "fully_online_share": 60.0,
    # visits 0 + 2 + 1 + 0 + 0 = 3 over 5
    "mean_visits": 0.6,
    # at most one visit: all but R2 → 4 of 5
    "at_most_once_rate": 80.0,
    # submitted in March: R1 R2 R3 R4 R5 R7, all screened; accepted with no notice: R1 R3 R7 → 3 of 6
    "first_pass_rate": 50.0,
    # notices: R2 one, R4 two → told once: 1 of 2
    "one_time_notice_rate": 50.0,
    # accepted: R1 R2 R3 R4 R7; corrected: R2 → 1 of 5
    "correction_rate": 20.0,
    # checked in March: 4, failed 1
    "post_check_failure_rate": 25.0,
    # March ratings 5 4 3 2 1 → good (≥ 3): 3 of 5
    "good_rating_rate": 60.0,
    # two rectifications: one rectified on time and revisited, one late and not revisited
    "rectified_on_time_rate": 50.0,
    "revisit_rate": 50.0,
    # evaluated work orders: satisfied 1, dissatisfied 1 (the merged one is excluded)
    "hotline_satisfaction_rate": 50.0,
    # delivered materials: R1 fetched+provided, R2 provided+supplemented (missing not delivered), R4 waived → 5;
    # exempt: fetched, waived → 2 of 5
    "exempt_material_share": 40.0,
    # March queries: 3 granted, 1 refused
    "evidence_queries_served": 3,
    "evidence_served_rate": 75.0,
    # grants decided in March: 3 working days (on time), 11 (late)
    "grant_on_time_rate": 50.0,
    # bundle R7: 8 working days against 3 + 8 = 11
    "bundle_parallel_ratio": 72.73,
    # bundle tasks due in March: 3, one done after its due date
    "cross_department_overdue": 1,
    "cross_department_overdue_rate": 33.33,
    # work orders with a due date: 2, answered on time 1
    "hotline_on_time_rate": 50.0,
    # March entries seq 0..3, the signed tree head covers 0..2 → 3 of 4
    "access_log_sealed_rate": 75.0,
    # granted reads for cases: 3, cases read: R1, R7 → 1.5
    "personal_reads_per_case": 1.5,
    # March incidents: one real, one dismissed
    "security_incidents": 1,
    # online ratings: 5 web, 3 mobile, 2 web → good 2 of 3
    "national_effectiveness": 66.67,
    # published leaf items A1 (1), A0 (0.5), B1 (0): 1.5 of 3
    "national_maturity": 50.0,
    # online possible and a window place: A1, A0 → 2 of 3
    "national_completeness": 66.67,
    # licensing powers of the latest published lists: P1 (A1 ✓), P2 (none), P4 (B1 ✓) → 2 of 3
    "national_coverage": 66.67,
    # complete guides: A1, B1 (A0 lacks the consultation line) → 2 of 3
    "national_guide_accuracy": 66.67,
}

# March 2026, organisation T-B only.
EXPECTED_B = {
    "on_time_rate": 100.0, "mean_workdays_used": 8.0, "time_used_ratio": 80.0, "immediate_share": 0.0,
    "fully_online_share": 100.0, "mean_visits": 0.0, "at_most_once_rate": 100.0,
    # R4 (two notices), R5 (refused)
    "first_pass_rate": 0.0, "one_time_notice_rate": 0.0, "correction_rate": 0.0,
    "post_check_failure_rate": 0.0,
    # ratings 3 (mobile) and 1 (pad)
    "good_rating_rate": 50.0, "rectified_on_time_rate": 0.0, "revisit_rate": 0.0,
    "hotline_satisfaction_rate": None,
    "exempt_material_share": 100.0,
    "evidence_queries_served": 0, "evidence_served_rate": None,
    "grant_on_time_rate": 50.0,
    "bundle_parallel_ratio": None, "cross_department_overdue": 0, "cross_department_overdue_rate": 0.0,
    "hotline_on_time_rate": None,
    "access_log_sealed_rate": None, "personal_reads_per_case": None, "security_incidents": 0,
    "national_effectiveness": 100.0, "national_maturity": 0.0, "national_completeness": 0.0,
    "national_coverage": 100.0, "national_guide_accuracy": 100.0,
}


@pytest.fixture
def log():
    return world.build()


def test_every_indicator_of_the_file_is_checked():
    ids = {i.id for i in current().indicators}
    assert ids == set(EXPECTED_ALL) == set(EXPECTED_B)


def test_every_indicator_on_the_hand_built_log(log):
    got = {f["id"]: f["value"] for f in figures_json("2026-03")}
    assert got == EXPECTED_ALL


def test_every_indicator_for_one_organisation(log):
    got = {f["id"]: f["value"] for f in figures_json("2026-03", org="T-B")}
    assert got == EXPECTED_B


def test_shape_of_the_interface(log):
    rows = figures_json("2026-03")
    assert all(set(r) == {"id", "dimension", "value", "unit"} for r in rows)
    assert {r["dimension"] for r in rows} == {"efficiency", "quality", "satisfaction", "sharing", "coordination",
                                              "security", "national"}


def test_an_empty_month_gives_zero_counts_and_no_rates(log):
    got = {f["id"]: f["value"] for f in figures_json("2025-07")}
    assert got["on_time_rate"] is None and got["security_incidents"] == 0
    assert got["national_maturity"] == 50.0  # catalogue snapshot: not by month


def test_grouped_by_organisation_and_division(log):
    by_org = {(f.indicator.id, f.group): f.value for f in compute("2026-03", group_by="org",
                                                                  indicators=["on_time_rate", "good_rating_rate"])}
    assert by_org[("on_time_rate", "T-A")] == 75.0  # R1, R3, R7/A1 of R1, R2, R3, R7/A1
    assert by_org[("on_time_rate", "T-B")] == 100.0
    assert by_org[("good_rating_rate", "T-A")] == 66.67  # 5, 4, 2
    by_div = {f.group: f.value for f in compute("2026-03", group_by="division", indicators=["mean_visits"])}
    assert by_div == {"990100": 0.75, "990102": 0.0}  # (0 + 2 + 1 + 0) / 4; B1 of R7: 0


def test_drill_down_lists_the_cases_behind_a_figure(log):
    late = drill("on_time_rate", "2026-03")
    assert [r["ref"] for r in late] == ["R2"]
    assert late[0]["org"] == "T-A" and late[0]["at"].year == 2026
    assert {r["ref"] for r in drill("first_pass_rate", "2026-03")} == {"R2", "R4", "R5"}
    assert {r["ref"] for r in drill("cross_department_overdue", "2026-03")} == {"R7"}


@pytest.mark.parametrize("bad", ["2026-13", "2026-3", "26-03", "", "2026-03-01", "abcd-ef", "1999-12"])
def test_a_bad_period_is_refused_clearly(bad):
    with pytest.raises(BadPeriod, match="YYYY-MM"):
        parse_period(bad)


def test_an_unknown_organisation_is_refused(log):
    with pytest.raises(NotFound, match="XX"):
        compute("2026-03", org="XX")


def test_api_returns_the_same_list(log, client):
    r = client.get("/api/insight/indicators", {"period": "2026-03", "org": "T-B"})
    assert r.status_code == 200
    assert r.json() == figures_json("2026-03", org="T-B")
    bad = client.get("/api/insight/indicators", {"period": "2026-3"})
    assert bad.status_code == 422 and bad.json()["code"] == "insight.bad_period"
    assert client.get("/api/insight/indicators", {"period": "2026-03", "org": "NOPE"}).status_code == 404
    assert client.get("/api/insight/indicators").status_code == 422


def test_cli_prints_the_same_list(log):
    import typer

    from tongban.insight import cli

    app = typer.Typer()
    cli.register(app)
    result = CliRunner().invoke(app, ["insight", "indicators", "--period", "2026-03", "--org", "T-B",
                                      "--format", "json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == figures_json("2026-03", org="T-B")
    bad = CliRunner().invoke(app, ["insight", "indicators", "--period", "03/2026", "--format", "json"])
    assert bad.exit_code == 1 and "YYYY-MM" in bad.output

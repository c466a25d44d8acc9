"""The next reengineering step on the hand-built log (tests/mining_log.py), with savings worked out by hand."""

from __future__ import annotations

import pytest

from tongban.applications.models import Application, ApplicationMaterial, Notice, StoredFile, Supplement
from tongban.insight.mining.analysis import mine
from tongban.insight.mining.eventlog import build_log
from tongban.insight.mining.proposals import propose, serial_pairs
from tongban.workflow.models import ProcessDefinition

from . import mining_log as ml

pytestmark = pytest.mark.django_db


@pytest.fixture
def cases(demo_core):
    return ml.build_all()


def _application(ref: str, instance_id: int, accepted_day: int) -> Application:
    return Application.objects.create(ref=ref, title="食品经营许可", applicant_name="张三",
                                      applicant_id_number="110101199001011234", status=Application.Status.APPROVED,
                                      process_instance_id=instance_id, accepted_at=ml.at(accepted_day, 9))


def test_serial_pairs_without_data_dependency(cases):
    graph = ProcessDefinition.objects.get(key=ml.KEY).graph
    # accept → review: the gateway reads accept_outcome; review → site: review_outcome; fire → decide: fire_outcome;
    # correction is the applicant's 特殊环节; site (市场监管局) → fire (消防救援支队): nothing reads site's result
    assert serial_pairs(graph) == [("site", "fire")]


def test_proposals_with_savings(cases):
    log = build_log(ml.KEY)
    proposals = propose(log, mine(log))
    parallel = [p for p in proposals if p.kind == "parallel"]
    assert len(parallel) == 1 and parallel[0].elements == ["site", "fire"] and parallel[0].cases == 3
    # the shorter of 现场核查 / 消防核查 (enabled → completed) per case: C1 1+2/24, C2 1+1/24, C3 1+1/24
    assert parallel[0].days_per_case == pytest.approx((3 + 4 / 24) / 3, abs=1e-3)
    waiting = [p for p in proposals if p.kind == "waiting"]
    # 审查 waits 1, 1/24, 1, 0 working days: mean (2 + 1/24)/4, fastest quarter (nearest rank) 0 → saves the mean
    review = next(p for p in waiting if p.elements == ["review"])
    assert review.days_per_case == pytest.approx((2 + 1 / 24) / 4, abs=1e-3) and review.cases == 4
    # 消防核查 waits 2 days every time: nothing to gain by the fastest-quarter yardstick
    assert not any(p.elements == ["fire"] for p in waiting)
    assert not any(p.elements == ["correction"] for p in waiting)  # 特殊环节: the applicant's time


def test_material_proposals_from_notices_and_supplements(cases):
    c1, c2, c3 = cases["C1"], cases["C2"], cases["C3"]
    a1 = _application("A1", c1.pk, accepted_day=4)  # one-time notice on Mon 2nd 09:00, accepted Wed 4th 09:00
    a2 = _application("A2", c2.pk, accepted_day=2)
    _application("A3", c3.pk, accepted_day=9)
    for app in (a1, a2):
        ApplicationMaterial.objects.create(application=app, key="licence", name="营业执照",
                                           status=ApplicationMaterial.Status.PROVIDED)
        ApplicationMaterial.objects.create(application=app, key="plan", name="场所平面图",
                                           status=ApplicationMaterial.Status.SUPPLEMENTED)
    f = StoredFile.objects.create(sha256="0" * 64, size=1, content_type="application/pdf")
    Notice.objects.create(application=a1, kind=Notice.Kind.ONE_TIME, code="N1", file=f, issued_at=ml.at(2, 9),
                          content={"lists": [["需补正的材料：", ["场所平面图", "营业执照"]]]})
    # a2: tolerated at acceptance, supplemented Mon 2nd 09:00 → Tue 3rd 15:00 (1.25 working days)
    Supplement.objects.create(application=a2, material_keys=["plan"], deadline=ml.at(6, 9).date(),
                              requested_at=ml.at(2, 9), fulfilled_at=ml.at(3, 15))
    log = build_log(ml.KEY)
    materials = [p for p in propose(log, mine(log)) if p.kind == "material"]
    assert [p.elements for p in materials] == [["plan"], ["licence"]]
    plan, licence = materials
    assert plan.cases == 2 and plan.days_per_case == pytest.approx((2 + 1.25) / 2)  # a1: notice → accepted 2 days
    assert licence.cases == 1 and licence.days_per_case == pytest.approx(2.0)
    assert "场所平面图" in plan.title and "2 件" in plan.detail

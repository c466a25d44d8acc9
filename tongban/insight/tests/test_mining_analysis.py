"""Process mining on the hand-built log (tests/mining_log.py): every figure below is worked out by hand from the
times set there (working days on the statutory calendar; 7–8 March 2026 is a weekend)."""

from __future__ import annotations

import pytest
from lxml import etree

from tongban.core.calendar import WorkingCalendar
from tongban.insight.mining.analysis import mine, working_days
from tongban.insight.mining.eventlog import build_log
from tongban.insight.mining.petri import petri_from_graph
from tongban.workflow.models import ProcessDefinition

from . import mining_log as ml

pytestmark = pytest.mark.django_db


@pytest.fixture
def mining(demo_core):
    ml.build_all()
    return mine(build_log(ml.KEY))


def test_working_days_skip_weekends_and_count_fractions():
    cal = WorkingCalendar()
    assert working_days(cal, ml.at(6, 14), ml.at(10, 14)) == pytest.approx(2.0)  # Fri 14:00 → Tue 14:00
    assert working_days(cal, ml.at(2, 10), ml.at(2, 12)) == pytest.approx(2 / 24)
    assert working_days(cal, ml.at(7, 9), ml.at(8, 18)) == 0.0  # a weekend
    assert working_days(cal, ml.at(3, 12), ml.at(2, 12)) == 0.0


def test_waiting_and_working_per_activity(mining):
    by = {s.activity: s for s in mining.activities}
    fire = by["消防核查"]
    # C1 Wed 14:00 → Fri 14:00, C2 Fri 14:00 → Tue 14:00, C3 Tue 12:00 → Thu 12:00: 2 working days each
    assert (fire.executions, fire.mean_waiting, fire.total_waiting) == (3, 2.0, 6.0)
    assert fire.organisation == "云溪市消防救援支队"
    review = by["审查"]
    # waits 24 h, 1 h, 24 h, 0 h over four executions: (1 + 1/24 + 1 + 0) / 4
    assert review.executions == 4 and review.mean_waiting == pytest.approx((2 + 1 / 24) / 4, abs=1e-3)
    site = by["现场核查"]
    assert site.mean_working == pytest.approx(1.0)  # one working day each time
    assert by["补正材料"].excluded_step and by["补正材料"].mean_working == pytest.approx(2.0)
    assert [s.activity for s in mining.activities][0] == "消防核查"  # ordered by total waiting


def test_bottleneck_variants_rework(mining):
    assert mining.bottleneck.activity == "消防核查"
    assert mining.deployed_marks == ["fire"]
    assert len(mining.variants) == 3 and all(v.cases == 1 for v in mining.variants)
    straight = next(v for v in mining.variants if v.activities == ["受理", "审查", "现场核查", "消防核查", "决定"])
    assert straight.mean_days == pytest.approx(4 + 8 / 24, abs=1e-3)  # Mon 09:00 → Fri 17:00
    assert len(mining.rework) == 1
    rw = mining.rework[0]
    assert (rw.activity, rw.cases, rw.extra_executions, rw.loop) == ("审查", 1, 1, "审查 → 补正材料 → 审查")
    assert rw.extra_days == pytest.approx(1 + 1 / 24, abs=1e-3)  # the second 审查: Wed 12:00 → Thu 13:00
    assert (mining.cases, mining.finished_cases, mining.events) == (3, 3, 16)


def test_discovered_model_is_bpmn_with_diagram_and_marks_the_bottleneck(mining):
    root = etree.fromstring(mining.discovered_xml.encode())
    ns = {"bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL", "bpmndi": "http://www.omg.org/spec/BPMN/20100524/DI"}
    tasks = {t.get("name"): t.get("id") for t in root.iterfind(".//bpmn:task", ns)}
    assert set(tasks) == {"受理", "审查", "补正材料", "现场核查", "消防核查", "决定"}
    assert mining.discovered_marks == [tasks["消防核查"]]
    shapes = {s.get("bpmnElement") for s in root.iterfind(".//bpmndi:BPMNShape", ns)}
    assert set(tasks.values()) <= shapes


def test_conformance_fits_and_detects_a_deviation(mining, demo_core):
    assert mining.conformance.log_fitness == 1.0 and mining.conformance.fitting_share == 1.0
    assert mining.conformance.discovered_fitness == 1.0 and mining.conformance.model == "mining_t v1"
    # version 2 drops 现场核查: the three finished cases of v1 no longer fit the deployed (latest) model
    v2 = ml.XML.replace('chain("site", "fire", "gw_fire")', "")
    v2 = v2.replace('<bpmn:sequenceFlow id="f_ok" sourceRef="gw_review" targetRef="site"/>',
                    '<bpmn:sequenceFlow id="f_ok" sourceRef="gw_review" targetRef="fire"/>')
    v2 = v2.replace('<bpmn:sequenceFlow id="f_site_fire" sourceRef="site" targetRef="fire"/>', "")
    v2 = v2.replace(ml.user_task("site", "现场核查"), "")
    from tongban.workflow import services as wf

    assert wf.deploy(v2, "mining_t.bpmn")[0].version == 2
    inst = ml.run_case("C4", [("accept", "accept", ml.at(11, 9), ml.at(11, 9), ml.at(11, 10)),
                              ("review", "approve", ml.at(11, 10), ml.at(11, 10), ml.at(11, 11)),
                              ("fire", "pass", ml.at(11, 11), ml.at(11, 12), ml.at(11, 13)),
                              ("decide", "", ml.at(11, 13), ml.at(11, 13), ml.at(11, 14))])
    running = ml.run_case("C5", [("accept", "accept", ml.at(12, 9), ml.at(12, 9), ml.at(12, 10))])
    m = mine(build_log(ml.KEY))
    assert m.cases == 5 and m.finished_cases == 4
    c = m.conformance
    assert c.model == "mining_t v2" and c.unknown_activities == ["现场核查"]
    assert c.fitting_share == pytest.approx(1 / 4)  # only C4; the running C5 is not replayed
    assert str(inst.pk) not in c.unfitting_cases and str(running.pk) not in c.unfitting_cases
    assert len(c.unfitting_cases) == 3 and c.log_fitness < 1.0


def test_petri_net_of_the_deployed_model_has_its_activities():
    from tongban.workflow import services as wf

    wf.deploy(ml.XML, "mining_t.bpmn")
    graph = ProcessDefinition.objects.get(key=ml.KEY).graph
    net, im, fm, labels = petri_from_graph(graph)
    assert labels == {"受理", "审查", "补正材料", "现场核查", "消防核查", "决定"}
    assert {t.label for t in net.transitions if t.label} == labels
    assert len(im) == 1 and len(fm) == 1


def test_empty_log_gives_empty_tables(demo_core):
    from tongban.workflow import services as wf

    wf.deploy(ml.XML, "mining_t.bpmn")
    m = mine(build_log(ml.KEY))
    assert m.events == 0 and m.bottleneck is None and m.discovered_xml == "" and m.conformance.error

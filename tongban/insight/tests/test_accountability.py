"""容错纠错: leads raised from red lights, failed post-checks and missed rectifications; the official applies for
fault tolerance; the reviewer decides against the documented criteria; accepted determinations leave the
department's penalty indicators (the ``tolerated`` hook)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from tongban.core.models import Organisation, User
from tongban.feedback.models import Rating, Rectification, ServiceRecord
from tongban.insight.accountability import criteria, selectors, services
from tongban.insight.accountability.errors import AccountabilityError, BadState, Forbidden
from tongban.insight.accountability.models import AccountabilityLead as Lead
from tongban.supervision.models import PostCheck
from tongban.workflow.models import Task

from . import mining_log as ml

pytestmark = pytest.mark.django_db
TODAY = dt.date(2026, 3, 20)


@pytest.fixture
def world(demo_core):
    cases = ml.build_all()
    # C2's 消防核查 (消防救援支队) went red, done by the fire brigade's approver
    fire = Task.objects.get(instance=cases["C2"], element_id="fire")
    officer = User.objects.get(username="approver-xf")
    Task.objects.filter(pk=fire.pk).update(light="red", assignee=officer, due_on=dt.date(2026, 3, 9))
    scjg = Organisation.objects.get(code="yx-scjg")
    pc = PostCheck.objects.create(application_ref="YX-2026-000001", title="食品经营许可证变更", subject_name="某店",
                                  subject_id_number="91510100MA6C000000", department=scjg, due_on=dt.date(2026, 3, 10),
                                  status=PostCheck.Status.FAILED, checked_at=timezone.make_aware(dt.datetime(2026, 3, 12, 10)))
    PostCheck.objects.create(application_ref="YX-2026-000002", subject_name="另一店", subject_id_number="x",
                             department=scjg, due_on=dt.date(2026, 3, 10), status=PostCheck.Status.PASSED)
    rsj = Organisation.objects.get(code="yx-rsj")
    at = timezone.make_aware(dt.datetime(2026, 3, 2, 10))

    def rectification(ref: str, status: str, due: dt.date, rectified: dt.datetime | None = None) -> Rectification:
        s = ServiceRecord.objects.create(ref=ref, department=rsj, served_at=at, rate_until=at)
        r = Rating.objects.create(service=s, level=1, department=rsj, created_at=at)
        return Rectification.objects.create(rating=r, department=rsj, status=status, due_on=due, rectified_at=rectified,
                                            created_at=at)

    late = rectification("S1", Rectification.Status.RECTIFYING, dt.date(2026, 3, 13))
    rectification("S2", Rectification.Status.RECTIFYING, dt.date(2026, 3, 27))  # not due yet
    rectification("S3", Rectification.Status.REVISITING, dt.date(2026, 3, 13),
                  timezone.make_aware(dt.datetime(2026, 3, 12, 9)))  # in time
    return {"fire": fire, "officer": officer, "post_check": pc, "late": late}


def test_leads_are_raised_once_per_record(world):
    assert services.raise_leads(TODAY) == {"red_light": 1, "post_check": 1, "rectification": 1}
    assert services.raise_leads(TODAY) == {"red_light": 0, "post_check": 0, "rectification": 0}
    red = Lead.objects.get(source="red_light")
    assert (red.source_ref, red.department.code, red.official, red.occurred_on) == (
        str(world["fire"].pk), "yx-xf", world["officer"], dt.date(2026, 3, 9))
    assert "消防核查" in red.subject
    pc = Lead.objects.get(source="post_check")
    assert pc.source_ref == str(world["post_check"].pk) and pc.department.code == "yx-scjg"  # no item: the checker
    rect = Lead.objects.get(source="rectification")
    assert rect.source_ref == str(world["late"].pk) and rect.department.code == "yx-rsj" and rect.official is None


def test_apply_and_decide_against_the_criteria(world):
    services.raise_leads(TODAY)
    lead = Lead.objects.get(source="red_light")
    officer, admin = world["officer"], User.objects.get(username="admin")
    other = User.objects.get(username="approver-scjg")
    with pytest.raises(Exception):  # noqa: B017 - not the official (and not their department): hidden
        services.apply_for_tolerance(lead.pk, other, "推行并联审批改革中的新做法", ["reform"])
    with pytest.raises(AccountabilityError):
        services.apply_for_tolerance(lead.pk, officer, "太忙", ["reform"])  # reason too short
    with pytest.raises(AccountabilityError):
        services.apply_for_tolerance(lead.pk, officer, "试行容缺受理后补正材料集中到达", ["no_gain"])  # no 改革创新
    app = services.apply_for_tolerance(lead.pk, officer, "试行容缺受理后补正材料集中到达，核查积压",
                                       ["reform", "no_gain", "diligent"])
    lead.refresh_from_db()
    assert lead.status == "applied" and app.criteria_claimed == ["reform", "no_gain", "diligent"]
    with pytest.raises(BadState):
        services.apply_for_tolerance(lead.pk, officer, "再次申请改革创新事由说明", ["reform"])
    with pytest.raises(Forbidden):  # the official cannot decide their own application
        services.decide(lead.pk, officer, "exempt", list(criteria.CRITERIA), "全部符合")
    with pytest.raises(AccountabilityError):  # 免责 needs every criterion
        services.decide(lead.pk, admin, "exempt", ["reform", "no_gain", "diligent"], "符合三项")
    assert selectors.tolerated("red_light") == set()
    services.decide(lead.pk, admin, "lenient", ["reform", "no_gain", "diligent"], "属改革探索，未谋私利，已尽责")
    lead.refresh_from_db()
    assert (lead.status, lead.determination, lead.tolerated) == ("decided", "lenient", True)
    # the hook: the red light is excluded from 消防救援支队's penalty indicators
    assert selectors.tolerated("red_light") == {str(world["fire"].pk)}
    assert selectors.tolerated("red_light", "yx-scjg") == set()
    summary = {r["code"]: r for r in selectors.department_summary()}
    assert (summary["yx-xf"]["leads"], summary["yx-xf"]["tolerated"], summary["yx-xf"]["counted"]) == (1, 1, 0)
    assert summary["yx-rsj"]["counted"] == 1


def test_refusal_keeps_the_record_in_the_indicators(world):
    services.raise_leads(TODAY)
    lead = Lead.objects.get(source="rectification")
    staff = User.objects.get(username="approver-rsj")  # no official named: the department's staff apply
    services.apply_for_tolerance(lead.pk, staff, "试行预约延时服务导致窗口排队变长", ["reform"])
    with pytest.raises(AccountabilityError):
        services.decide(lead.pk, User.objects.get(username="admin"), "lenient", ["reform"], "仅一项")
    services.decide(lead.pk, User.objects.get(username="admin"), "refused", ["reform"], "整改逾期非改革所致")
    assert selectors.tolerated() == set()


def test_criteria_rules():
    assert criteria.allowed_determination(set(criteria.CRITERIA)) == {"exempt", "lenient", "refused"}
    assert criteria.allowed_determination({"reform", "no_gain", "remedied"}) == {"lenient", "refused"}
    assert criteria.allowed_determination({"reform", "no_gain"}) == {"refused"}
    assert criteria.allowed_determination({"reform", "lawful", "diligent", "remedied"}) == {"refused"}


def test_raise_leads_cli_prints_each_new_lead_and_is_idempotent(world):
    import typer
    from typer.testing import CliRunner

    from tongban.insight import cli

    app = typer.Typer()
    cli.register(app)
    run = CliRunner()
    # today (after March): S1 and S2 are both past their deadline; the red light (03-09) is before --since
    first = run.invoke(app, ["insight", "raise-leads", "--since", "2026-03-10"])
    assert first.exit_code == 0, first.output
    lines = first.stdout.strip().splitlines()
    assert lines[-1] == "raised=3"
    assert sorted(line.split()[1] for line in lines[:-1]) == ["source=post_check", "source=rectification",
                                                             "source=rectification"]
    assert all(line.startswith("lead=") and " department=" in line for line in lines[:-1])
    second = run.invoke(app, ["insight", "raise-leads"])
    assert second.stdout.strip().splitlines()[-1] == "raised=1" and "source=red_light" in second.stdout
    assert run.invoke(app, ["insight", "raise-leads"]).stdout.strip() == "raised=0"
    assert Lead.objects.count() == 4
    bad = run.invoke(app, ["insight", "raise-leads", "--since", "2026-3-1x"])
    assert bad.exit_code == 2 and "YYYY-MM-DD" in bad.output


def test_the_pages_apply_and_decide(world, client):
    services.raise_leads(TODAY)
    lead = Lead.objects.get(source="red_light")
    officer, admin = world["officer"], User.objects.get(username="admin")
    other = User.objects.get(username="approver-scjg")
    # another department's staff: the list does not show it, the lead is not found
    client.force_login(other)
    assert f"lead-{lead.pk}" not in client.get("/insight/accountability/").content.decode()
    assert client.get(f"/insight/accountability/{lead.pk}/").status_code == 404
    # the official: the list offers 申请容错; a bad form goes back with its message and changes nothing
    client.force_login(officer)
    listing = client.get("/insight/accountability/").content.decode()
    assert f"lead-{lead.pk}" in listing and "申请容错" in listing and "消防救援支队" in listing
    form = client.get(f"/insight/accountability/{lead.pk}/apply/").content.decode()
    assert "改革创新事由" in form and "未谋私利" in form
    r = client.post(f"/insight/accountability/{lead.pk}/apply/", {"reform_reason": "太忙", "criteria": ["reform"]})
    assert r.status_code == 302 and r["Location"].endswith("/apply/")
    lead.refresh_from_db()
    assert lead.status == "open"
    r = client.post(f"/insight/accountability/{lead.pk}/apply/",
                    {"reform_reason": "试行容缺受理后补正材料集中到达，核查积压", "criteria": ["reform", "no_gain", "diligent"]})
    assert r.status_code == 302 and r["Location"] == f"/insight/accountability/{lead.pk}/"
    # the official cannot decide their own lead
    assert client.get(f"/insight/accountability/{lead.pk}/decide/").status_code == 403
    # the office decides: 免责 unsupported by three criteria is refused, 从轻 is taken
    client.force_login(admin)
    page = client.get(f"/insight/accountability/{lead.pk}/decide/").content.decode()
    assert "试行容缺受理" in page and "免责" in page and "不予容错" in page
    r = client.post(f"/insight/accountability/{lead.pk}/decide/",
                    {"decision": "exempt", "criteria_met": ["reform", "no_gain", "diligent"], "reason": "符合三项"})
    assert r["Location"].endswith("/decide/")
    r = client.post(f"/insight/accountability/{lead.pk}/decide/",
                    {"decision": "lenient", "criteria_met": ["reform", "no_gain", "diligent"],
                     "reason": "属改革探索，未谋私利，已尽责"})
    assert r.status_code == 302
    lead.refresh_from_db()
    assert lead.determination == "lenient"
    detail = client.get(f"/insight/accountability/{lead.pk}/").content.decode()
    assert "从轻" in detail and "已从云溪市消防救援支队的扣分指标中剔除" in detail and "改革创新、未谋私利、勤勉尽责" in detail
    # a citizen is refused
    client.force_login(User.objects.get(username="zhangsan"))
    assert client.get("/insight/accountability/").status_code == 403

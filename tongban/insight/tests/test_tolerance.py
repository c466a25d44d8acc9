"""容错纠错 in the indicators: an accepted determination (免责 / 从轻) takes its record out of the department's penalty
indicators, a refused one does not, and the excluded records are counted and listed. On the hand-built log of
``world.py`` (March 2026); every value before and after is worked out by hand below."""

from __future__ import annotations

import pytest

from tongban.applications.models import ApplicationItem
from tongban.core.models import Organisation, User
from tongban.feedback.models import Rectification
from tongban.insight.accountability import criteria, services
from tongban.insight.accountability.models import AccountabilityLead as Lead
from tongban.insight.indicators import compute, drill
from tongban.supervision.models import PostCheck
from tongban.workflow.models import ProcessInstance, Task

from . import world

pytestmark = pytest.mark.django_db

PENALTY = ["on_time_rate", "cross_department_overdue", "cross_department_overdue_rate", "post_check_failure_rate",
           "rectified_on_time_rate", "mean_workdays_used"]


def figures(org: str = "") -> dict[str, tuple[float | None, int | None]]:
    return {f.indicator.id: (f.value, f.tolerated) for f in compute("2026-03", org=org, indicators=PENALTY)}


def lead(source: str, ref: int, org: Organisation, determination: str = "", **kw) -> Lead:
    status = "decided" if determination else "open"
    return Lead.objects.create(source=source, source_ref=str(ref), department=org, subject=f"{source} {ref}",
                               occurred_on=world.d(3, 12), status=status, determination=determination, **kw)


@pytest.fixture
def log():
    built = world.build()
    a, b = built["a"], built["b"]
    # R2 (甲局, A1) was decided 03-16 after its due date 03-12: its review task went red
    r2_instance = ProcessInstance.objects.get(pk=ApplicationItem.objects.get(application__ref="R2").process_instance_id)
    built["r2_task"] = Task.objects.create(instance=r2_instance, element_id="review", name="审查", candidate_org=a,
                                           due_on=world.d(3, 12), completed_at=world.at(3, 16), state="completed",
                                           light="red")
    # a task of R2's case held by 乙局 (e.g. a consultation), also red
    built["r2_other"] = Task.objects.create(instance=r2_instance, element_id="consult", name="征求意见",
                                            candidate_org=b, due_on=world.d(3, 10), completed_at=world.at(3, 11),
                                            state="completed", light="red")
    # the bundle task of R7 due 03-04 and done 03-05 (the one overdue bundle task)
    built["bundle_task"] = Task.objects.get(due_on=world.d(3, 4))
    built["failed_check"] = PostCheck.objects.get(application_ref="R2", status="failed")
    return built


def test_before_any_determination_the_figures_are_the_plain_ones(log):
    lead("red_light", log["r2_task"].pk, log["a"])  # raised, not decided: still counted
    assert figures() == {
        # 4 of 5 clocked items on time (R2 late); nothing tolerated
        "on_time_rate": (80.0, 0),
        # of the 3 bundle tasks due in March, the one due 03-04 was done 03-05
        "cross_department_overdue": (1, 0), "cross_department_overdue_rate": (33.33, 0),
        # 4 checks in March, R2's failed
        "post_check_failure_rate": (25.0, 0),
        # 2 rectifications, 乙局's late one
        "rectified_on_time_rate": (50.0, 0),
        "mean_workdays_used": (4.4, None),  # not a penalty indicator
    }


def test_accepted_determinations_leave_the_penalty_indicators(log):
    a, b = log["a"], log["b"]
    # R2's red light, through the services: the official applies, the office decides 从轻
    official = User.objects.create(username="t-a-approver", kind="staff", organisation=a, display_name="甲审批")
    office = User.objects.create(username="t-office", kind="staff", is_superuser=True, display_name="管理办")
    red = lead("red_light", log["r2_task"].pk, a, official=official)
    services.apply_for_tolerance(red.pk, official, "试行容缺受理，补正材料集中到达导致审查延后", ["reform", "no_gain"])
    services.decide(red.pk, office, "lenient", ["reform", "no_gain", "diligent"], "属改革探索，未谋私利，已尽责")
    # the overdue bundle task: 免责; R2's failed post-check: 从轻; 乙局's late rectification: 不予容错
    lead("red_light", log["bundle_task"].pk, a, "exempt")
    lead("post_check", log["failed_check"].pk, a, "lenient")
    late = Rectification.objects.get(department=b, rectified_at__isnull=False, due_on=world.d(3, 20),
                                     revisited_at__isnull=True)
    lead("rectification", late.pk, b, "refused")

    assert figures() == {
        # R2 (late) leaves the denominator: 4 of 4, 1 record excluded. R7/A1's process holds the tolerated bundle
        # task, but R7/A1 was decided on time (03-05, due 03-09): only records counting against 甲局 leave
        "on_time_rate": (100.0, 1),
        # the overdue task leaves: 0 overdue of the 2 remaining tasks due
        "cross_department_overdue": (0, 1), "cross_department_overdue_rate": (0.0, 1),
        # R2's failed check leaves: 0 failed of 3
        "post_check_failure_rate": (0.0, 1),
        # refused: still counted, 1 of 2 on time
        "rectified_on_time_rate": (50.0, 0),
        # not a penalty indicator: R2 still counts in the mean (22 / 5)
        "mean_workdays_used": (4.4, None),
    }
    # per department: 甲局's on-time rate 3 of 3 (R2 excluded), 乙局 has nothing excluded (1 of 1)
    assert figures("T-A")["on_time_rate"] == (100.0, 1)
    assert figures("T-B")["on_time_rate"] == (100.0, 0)
    assert figures("T-B")["rectified_on_time_rate"] == (0.0, 0)
    # grouped: the excluded count follows the department
    grouped = {f.group: (f.value, f.tolerated) for f in compute("2026-03", group_by="org",
                                                                indicators=["on_time_rate"])}
    assert grouped == {"T-A": (100.0, 1), "T-B": (100.0, 0)}
    # the drill-down no longer lists R2 as late; the excluded list does, with its lead
    assert drill("on_time_rate", "2026-03") == []
    excluded = drill("on_time_rate", "2026-03", tolerated=True)
    assert [(r["ref"], r["lead"]) for r in excluded] == [("R2", red.pk)]
    assert [r["ref"] for r in drill("cross_department_overdue", "2026-03", tolerated=True)] == ["R7"]
    assert drill("rectified_on_time_rate", "2026-03", tolerated=True) == []
    assert criteria.label("reform") == "改革创新"


def test_a_refused_determination_keeps_the_record(log):
    lead("red_light", log["r2_task"].pk, log["a"], "refused")
    # 乙局's red light on R2's case is tolerated, but R2 is 甲局's item: 乙局's tolerance does not excuse 甲局
    lead("red_light", log["r2_other"].pk, log["b"], "exempt")
    lead("post_check", log["failed_check"].pk, log["a"], "refused")
    got = figures()
    assert got["on_time_rate"] == (80.0, 0) and got["post_check_failure_rate"] == (25.0, 0)
    assert [r["ref"] for r in drill("on_time_rate", "2026-03")] == ["R2"]


def test_the_staff_page_shows_and_lists_the_excluded_records(log, client):
    a = log["a"]
    red = lead("red_light", log["r2_task"].pk, a, "exempt")
    office = User.objects.create(username="t-office", kind="staff", is_superuser=True, display_name="管理办")
    client.force_login(office)
    page = client.get("/insight/staff/", {"period": "2026-03", "indicator": "on_time_rate"}).content.decode()
    assert "已剔除 1 件（容错）" in page
    assert "indicator=on_time_rate&amp;period=2026-03&amp;org=&amp;tolerated=1" in page
    listed = client.get("/insight/staff/drill/", {"indicator": "on_time_rate", "period": "2026-03",
                                                  "tolerated": "1"})
    body = listed.content.decode()
    assert listed.status_code == 200 and "容错剔除的记录" in body and "<td>R2</td>" in body
    assert f'href="/insight/accountability/{red.pk}/"' in body
    # the public page shows the count, without a link to the records
    public = client.get("/insight/", {"period": "2026-03"}).content.decode()
    assert "已剔除 1 件（容错）" in public and "tolerated=1" not in public
    # an indicator that excludes nothing refuses the list
    assert client.get("/insight/staff/drill/", {"indicator": "good_rating_rate", "period": "2026-03",
                                                "tolerated": "1"}).status_code == 400

"""A small hand-built log for March 2026 (no holidays that month: every weekday is a working day).

Every indicator's expected value is worked out by hand in ``test_indicators.py`` from the records below;
each record says what it contributes. February and April records check that the month boundary holds.
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from tongban.applications.models import (
    Application,
    ApplicationEvent,
    ApplicationItem,
    ApplicationMaterial,
    Notice,
    StoredFile,
    Visit,
)
from tongban.catalog.models import Bundle, BundleItem, DutyList, Material, PowerEntry, ServiceItem
from tongban.core.models import Division, Organisation
from tongban.exchange.models import AccessLogEntry, DataResource, Grant, SignedTreeHead
from tongban.feedback.models import Rating, Rectification, ServiceRecord, WorkOrder
from tongban.security.models import SecurityIncident
from tongban.supervision.models import PostCheck
from tongban.workflow.models import ProcessDefinition, ProcessInstance, Task

CST = ZoneInfo("Asia/Shanghai")


def at(month: int, day: int, hour: int = 10) -> datetime:
    return datetime(2026, month, day, hour, 0, tzinfo=CST)


def d(month: int, day: int) -> date:
    return date(2026, month, day)


def build() -> dict:
    city = Division.objects.create(code="990100", name="测试市", level="city")
    county = Division.objects.create(code="990102", name="测试区", level="county", parent=city)
    a = Organisation.objects.create(code="T-A", name="甲局", division=city)
    b = Organisation.objects.create(code="T-B", name="乙局", division=county)
    window = Organisation.objects.create(code="T-W", name="政务服务中心", kind="service_centre", division=city)

    guide = {"legal_basis": ["《测试条例》第一条"], "statutory_limit_days": 20, "handling_place": "测试市政务服务中心",
             "handling_hours": "工作日 9:00-17:00", "consultation": "12345", "complaint": "12345"}
    a1 = ServiceItem.objects.create(code="A1", name="甲许可", item_type="licensing", competent_department=a,
                                    implementing_org=a, exercise_level="city", promised_limit_days=5,
                                    online_level="fully_online", **guide)
    a0 = ServiceItem.objects.create(code="A0", name="甲即办", item_type="licensing", competent_department=a,
                                    implementing_org=a, exercise_level="city", promised_limit_days=0,
                                    online_level="at_most_once", **{**guide, "consultation": ""})  # guide incomplete
    b1 = ServiceItem.objects.create(code="B1", name="乙许可", item_type="licensing", competent_department=b,
                                    implementing_org=b, exercise_level="county", promised_limit_days=10,
                                    online_level="onsite", **guide)
    ServiceItem.objects.create(code="DRAFT", name="草稿事项", item_type="licensing", competent_department=a,
                               implementing_org=a, exercise_level="city", status="draft", **guide)  # not published
    for item in (a1, a0, b1):
        Material.objects.create(item=item, code=f"{item.code}-M1", name="申请表")
    bundle = Bundle.objects.create(code="BUN1", name="测试一件事", lead_department=a, promised_limit_days=10)
    BundleItem.objects.create(bundle=bundle, item=a1, order=1)
    BundleItem.objects.create(bundle=bundle, item=b1, order=2)

    # power lists: A's published list has P1 (licensing, covered by A1), P2 (licensing, no item), P3 (not
    # licensing); B's published v1 has P4 (covered by B1); B's v2 is a draft and does not count.
    for org, entries in ((a, [("P1", "licensing", "A1"), ("P2", "licensing", "NOPE"),
                               ("P3", "confirmation", "A0")]), (b, [("P4", "licensing", "B1")])):
        dl = DutyList.objects.create(organisation=org, version=1)
        for code, kind, item_code in entries:
            PowerEntry.objects.create(duty_list=dl, code=code, name=code, power_type=kind,
                                      responsible_org=org.name, item_code=item_code)
        DutyList.objects.filter(pk=dl.pk).update(status="published")
    draft = DutyList.objects.create(organisation=b, version=2)
    PowerEntry.objects.create(duty_list=draft, code="P5", name="P5", power_type="licensing", responsible_org="乙局",
                              item_code="NOPE")

    definition = ProcessDefinition.objects.create(key="t", version=1, bpmn_xml="<x/>", checksum="x")

    def instance(start: date, due: date, limit: int) -> ProcessInstance:
        return ProcessInstance.objects.create(definition=definition, process_key="t", started_on=start, due_on=due,
                                              limit_days=limit)

    def app(ref: str, *, item: ServiceItem | None = None, bundle: Bundle | None = None, channel: str = "online",
            submitted: datetime | None, accepted: datetime | None = None, status: str = "in_review",
            completed: datetime | None = None) -> Application:
        return Application.objects.create(ref=ref, item=item, bundle=bundle, title=ref, applicant_name="张三",
                                          applicant_id_number="110101199001011234", channel=channel,
                                          status=status, submitted_at=submitted, accepted_at=accepted,
                                          completed_at=completed, window=window if channel == "window" else None)

    def decided(application: Application, item: ServiceItem, dept: Organisation, pi: ProcessInstance | None,
                when: datetime | None, status: str = "approved") -> ApplicationItem:
        return ApplicationItem.objects.create(application=application, item=item, department=dept, status=status,
                                              process_instance_id=pi.pk if pi else None, decided_at=when)

    blob = StoredFile.objects.create(sha256="0" * 64, size=1, content_type="application/pdf")

    def notice(application: Application, n: int) -> None:
        for i in range(n):
            Notice.objects.create(application=application, kind="one_time", code=f"{application.ref}-{i}",
                                  file=blob)

    def visits(application: Application, n: int) -> None:
        for _ in range(n):
            Visit.objects.create(application=application, window=window, purpose="现场核验")

    def materials(application: Application, *statuses: str) -> None:
        for i, status in enumerate(statuses):
            ApplicationMaterial.objects.create(application=application, key=f"m{i}", name=f"材料{i}", status=status)

    # R1: A1 online, accepted 03-02, clock 03-02 → due 03-09 (5), decided 03-06: 4 working days, on time, 0 visits
    r1 = app("R1", item=a1, submitted=at(3, 2, 9), accepted=at(3, 2, 9), status="approved")
    decided(r1, a1, a, instance(d(3, 2), d(3, 9), 5), at(3, 6))
    materials(r1, "fetched", "provided")
    # R2: A1 at the window, one one-time notice, accepted 03-05 → due 03-12, decided 03-16: 7 days, late, 2 visits,
    # returned once for correction
    r2 = app("R2", item=a1, channel="window", submitted=at(3, 3, 9), accepted=at(3, 5), status="approved")
    decided(r2, a1, a, instance(d(3, 5), d(3, 12), 5), at(3, 16))
    notice(r2, 1)
    visits(r2, 2)
    ApplicationEvent.objects.create(application=r2, kind="corrected", message="申请人已补正")
    materials(r2, "provided", "supplemented", "missing")
    # R3: A0 (即办, limit 0) at the window, decided the same day: 0 days, on time, 1 visit
    r3 = app("R3", item=a0, channel="window", submitted=at(3, 10, 9), accepted=at(3, 10, 9), status="approved")
    decided(r3, a0, a, instance(d(3, 10), d(3, 10), 0), at(3, 10, 15))
    visits(r3, 1)
    # R4: B1 online, two one-time notices, accepted 03-09, still in review (not closed)
    r4 = app("R4", item=b1, submitted=at(3, 4), accepted=at(3, 9))
    decided(r4, b1, b, instance(d(3, 9), d(3, 23), 10), None, status="in_review")
    notice(r4, 2)
    materials(r4, "waived")
    # R5: B1 at the window, refused
    r5 = app("R5", item=b1, channel="window", submitted=at(3, 11), status="refused")
    ApplicationItem.objects.create(application=r5, item=b1, department=b, status="pending")
    # R6: a draft, never submitted
    r6 = app("R6", item=a1, submitted=None, status="draft")
    ApplicationItem.objects.create(application=r6, item=a1, department=a)
    # R7: bundle (lead A) online, accepted 03-02; A1 decided 03-05 (3 days), B1 decided 03-12 (8 days); completed
    # 03-12: the bundle took 8 working days against 3 + 8 = 11 for its items
    r7 = app("R7", bundle=bundle, submitted=at(3, 2, 9), accepted=at(3, 2), status="approved",
             completed=at(3, 12, 16))
    pi7a, pi7b = instance(d(3, 2), d(3, 9), 5), instance(d(3, 2), d(3, 16), 10)
    decided(r7, a1, a, pi7a, at(3, 5))
    decided(r7, b1, b, pi7b, at(3, 12))
    # bundle tasks: due 03-09 done 03-05 (ok), due 03-16 done 03-12 (ok), due 03-04 done 03-05 (overdue),
    # due 04-02 (another month)
    for pi, due, done in ((pi7a, d(3, 9), at(3, 5)), (pi7b, d(3, 16), at(3, 12)), (pi7a, d(3, 4), at(3, 5)),
                          (pi7b, d(4, 2), None)):
        Task.objects.create(instance=pi, element_id="review", name="审查", due_on=due, completed_at=done,
                            state="completed" if done else "open")
    # R8: February: outside the month everywhere
    r8 = app("R8", item=a1, submitted=at(2, 10), accepted=at(2, 10), status="approved")
    decided(r8, a1, a, instance(d(2, 10), d(2, 27), 5), at(2, 20))
    materials(r8, "fetched")

    # post-checks: March: A passed, A failed, B passed, B passed; one pending; one February
    for ref, dept, status, when in (("R1", a, "passed", at(3, 20)), ("R2", a, "failed", at(3, 21)),
                                    ("R7", b, "passed", at(3, 22)), ("R4", b, "passed", at(3, 23)),
                                    ("R3", a, "pending", None), ("R8", a, "failed", at(2, 25))):
        PostCheck.objects.create(application_ref=ref, subject_name="某公司", department=dept, due_on=d(4, 30),
                                 status=status, checked_at=when)

    # ratings in March: 5 web, 4 pad, 3 mobile, 2 web, 1 pad (one February rating); bad ones rectified
    ratings = []
    for n, (level, channel, dept, when) in enumerate(((5, "web", a, at(3, 7)), (4, "pad", a, at(3, 8)),
                                                      (3, "mobile", b, at(3, 9)), (2, "web", a, at(3, 10)),
                                                      (1, "pad", b, at(3, 11)), (1, "web", a, at(2, 11)))):
        service = ServiceRecord.objects.create(ref=f"S{n}", application_ref=f"R{n + 1}", item_code="A1",
                                               department=dept, served_at=when, rate_until=at(12, 31))
        ratings.append(Rating.objects.create(service=service, level=level, channel=channel, department=dept,
                                             item_code="A1", created_at=when))
    # rectification of the level-2 rating: due 03-20, rectified 03-18, revisited 03-19 (on time, revisited)
    Rectification.objects.create(rating=ratings[3], department=a, created_at=at(3, 10), due_on=d(3, 20),
                                 rectified_at=at(3, 18), revisited_at=at(3, 19), status="done")
    # of the level-1 rating: due 03-20, rectified 03-25 (late), not revisited
    Rectification.objects.create(rating=ratings[4], department=b, created_at=at(3, 11), due_on=d(3, 20),
                                 rectified_at=at(3, 25), status="revisiting")
    Rectification.objects.create(rating=ratings[5], department=a, created_at=at(2, 11), due_on=d(2, 27))

    # 12345: due 03-10 answered 03-09 satisfied; due 03-10 answered 03-12 dissatisfied; no due; merged
    for n, (due, answered, satisfaction, status) in enumerate(((d(3, 10), at(3, 9), "satisfied", "closed"),
                                                              (d(3, 10), at(3, 12), "dissatisfied", "closed"),
                                                              (None, None, "", "new"),
                                                              (d(3, 10), None, "", "merged"))):
        WorkOrder.objects.create(number=f"W{n}", text="诉求", type="complaint", department=a if n < 2 else None,
                                 handling_due=due, answered_at=answered, satisfaction=satisfaction, status=status,
                                 created_at=at(3, 5))

    # access log: R1 twice, R7 once (granted), one refused (R2); tree head covers seq 0..2; one February entry
    for seq, (outcome, case, when) in enumerate((("granted", "R1", at(3, 2)), ("granted", "R1", at(3, 2, 11)),
                                                 ("granted", "R7", at(3, 2, 12)), ("refused", "R2", at(3, 3)),
                                                 ("granted", "R8", at(2, 10)))):
        AccessLogEntry.objects.create(seq=seq, at=when, consumer_org="T-A", source="shared", resource="hukou",
                                      subject_id="110101199001011234", case_ref=case, outcome=outcome,
                                      leaf_hash=f"{seq:064d}")
    SignedTreeHead.objects.create(tree_size=3, root_hash="0" * 64, timestamp=at(3, 31), signature="x", key_id="k")

    # grants of B's resource: decided after 3 working days (on time), after 11 (late); one undecided
    resource = DataResource.objects.create(code="hukou", name="户籍", owner=b)
    for requested, decided_at, status in ((at(3, 2), at(3, 5), "approved"), (at(3, 2), at(3, 17), "rejected"),
                                          (at(3, 2), None, "requested")):
        Grant.objects.create(resource=resource, consumer=a, purpose="办件", legal_basis="条例", status=status,
                             requested_at=requested, decided_at=decided_at)

    # security incidents: March: one real (A), one dismissed; February: one
    for when, dismissed in ((at(3, 3), False), (at(3, 4), True), (at(2, 3), False)):
        SecurityIncident.objects.create(rule="r", title="事件", severity="high", subject_org="T-A",
                                        dedup_key=str(when), opened_at=when, dismissed=dismissed)
    return {"a": a, "b": b, "city": city, "county": county}

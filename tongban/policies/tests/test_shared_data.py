"""免申即享 over data another department holds: read through the exchange under the implementing department's
grant, only for the subjects the other conditions leave, every read in the exchange's access log."""

from __future__ import annotations

import pytest

from tongban.core.models import User
from tongban.exchange.models import AccessLogEntry
from tongban.notifications.models import Message
from tongban.policies import services
from tongban.policies.errors import PolicyError
from tongban.policies.models import MatchRun, PolicyMatch

from .conftest import INSURED, grant

pytestmark = pytest.mark.django_db


def test_with_the_grant_the_shared_data_decides_and_every_read_is_logged(insurance_register, population):
    grant(insurance_register)
    services.save_policy(INSURED, publish=True)
    [row] = services.match()["policies"]
    assert row["refused"] == "" and row["matched"] == 1 and row["new"] == 1
    assert row["requested"] == 1  # 王奶奶 (85) fails the age condition: her insurance record is not read at all
    m = PolicyMatch.objects.get()
    young = population["young"]
    assert m.subject_name == "小李" and m.facts == {
        "person.age": m.facts["person.age"], "exchange:t_insurance.status": "正常参保",
        "exchange:t_insurance.months_paid": 60} and 18 <= m.facts["person.age"] <= 30
    assert m.reason == "您在本市正常参保、已累计缴费60个月，可以享受青年人租房补贴。"
    assert Message.objects.get(recipient=young).event == "policies.entitlement"
    [entry] = AccessLogEntry.objects.all()
    assert (entry.consumer_org, entry.resource, entry.subject_id, entry.outcome) == (
        "yx-zjj", "t_insurance", young.id_number, "granted")
    assert entry.fields == ["status", "months_paid"] and entry.masked_fields == [] and entry.grant_id
    assert entry.case_ref == "policy:T-QNZF" and entry.actor == "policies:batch"
    assert "免申即享政策匹配：青年人租房补贴（T-QNZF）" in entry.purpose
    again = services.match()["policies"][0]
    assert again["requested"] == 0 and again["new"] == 0  # already told: not read again
    assert AccessLogEntry.objects.count() == 1


def test_the_person_sees_the_read_in_their_access_log(insurance_register, population):
    from tongban.exchange import selectors as exchange

    grant(insurance_register)
    services.save_policy(INSURED, publish=True)
    services.match()
    [row] = exchange.access_log_for_subject(population["young"].id_number)
    assert row["consumer_name"] == "云溪市住房和城乡建设局" and row["resource_name"] == "社会保险参保信息"
    assert row["fields"] == ["参保状态", "累计缴费月数"] and "青年人租房补贴" in row["purpose"]


def test_without_a_grant_the_policy_is_refused_naming_policy_and_resource(insurance_register, population):
    services.save_policy(INSURED, publish=True)
    [row] = services.match()["policies"]
    assert row["matched"] == 0 and not PolicyMatch.objects.exists() and not Message.objects.exists()
    assert "青年人租房补贴" in row["refused"] and "T-QNZF" in row["refused"]
    assert "社会保险参保信息" in row["refused"] and "t_insurance" in row["refused"] and "共享授权" in row["refused"]
    [entry] = AccessLogEntry.objects.all()  # the refused attempt is in the log too; nothing more was tried
    assert entry.outcome == "refused" and entry.error_code == "exchange.no_grant" and entry.consumer_org == "yx-zjj"
    assert MatchRun.objects.get().counts["T-QNZF"]["refused"] == row["refused"]  # the run keeps the reason


@pytest.mark.parametrize(("kwargs", "says"), [
    ({"approve": False}, "审核中"),  # requested, not yet approved
    ({"consent_exempt": False}, "本人授权"),  # 有条件共享 needs each person's consent, or a consent-exempt grant
    ({"unmasked": ()}, "脱敏"),  # a masked number cannot be compared
    ({"fields": ("status",), "unmasked": ()}, "超出授权范围"),
])
def test_a_grant_that_does_not_suffice_is_refused(insurance_register, population, kwargs, says):
    grant(insurance_register, **kwargs)
    services.save_policy(INSURED, publish=True)
    [row] = services.match()["policies"]
    assert row["matched"] == 0 and says in row["refused"] and "T-QNZF" in row["refused"], row["refused"]
    assert not PolicyMatch.objects.exists()
    assert AccessLogEntry.objects.count() == 1


def test_another_departments_grant_does_not_count(insurance_register, population):
    grant(insurance_register, consumer="yx-gjj")
    services.save_policy(INSURED, publish=True)
    [row] = services.match()["policies"]
    assert row["matched"] == 0 and "共享授权" in row["refused"]


def test_dry_run_reads_and_logs_as_a_dry_run_and_tells_nobody(insurance_register, population, users_admin):
    grant(insurance_register)
    services.save_policy(INSURED)  # a draft
    [row] = services.match(["T-QNZF"], dry_run=True, actor=users_admin)["policies"]
    assert row["matched"] == 1 and row["requested"] == 1 and row["sample"][0]["reason"].startswith("您在本市正常参保")
    assert not PolicyMatch.objects.exists() and not Message.objects.exists()
    [entry] = AccessLogEntry.objects.all()
    assert entry.outcome == "granted" and entry.actor == users_admin.username
    assert entry.purpose.startswith("免申即享政策试算：青年人租房补贴（T-QNZF）")


def test_people_who_opted_out_are_not_read(insurance_register, population):
    grant(insurance_register)
    services.save_policy(INSURED, publish=True)
    services.opt_out(population["young"], all_policies=True)
    [row] = services.match()["policies"]
    assert row["requested"] == 0 and row["opted_out"] == 1 and row["matched"] == 0
    assert not AccessLogEntry.objects.exists()


def test_no_record_in_the_register_does_not_qualify(insurance_register, population):
    grant(insurance_register)
    services.save_policy(INSURED, publish=True)
    User.objects.create(username="xiaozhao", display_name="小赵", kind=User.Kind.NATURAL_PERSON,
                        id_number="910102199905050031")
    [row] = services.match()["policies"]
    assert row["requested"] == 2 and row["matched"] == 1 and row["refused"] == ""
    assert set(AccessLogEntry.objects.values_list("outcome", flat=True)) == {"granted", "failed"}


def test_shared_attributes_name_a_catalogued_item_and_the_department_that_holds_the_grant(insurance_register):
    with pytest.raises(PolicyError, match="不在数据资源目录"):
        services.save_policy({**INSURED, "rule": [{"attr": "exchange:nope.status", "op": "exists"}]})
    with pytest.raises(PolicyError, match="没有数据项“income”"):
        services.save_policy({**INSURED, "rule": [{"attr": "exchange:t_insurance.income", "op": ">", "value": 1}]})
    with pytest.raises(PolicyError, match="实施部门"):
        services.save_policy({**INSURED, "department": ""})


def test_the_officer_sees_the_shared_data_by_name_and_source(insurance_register):
    from tongban.policies import selectors

    services.save_policy(INSURED)
    [row] = selectors.overview()
    assert "累计缴费月数（社会保险参保信息） ≥ 6" in row["conditions"]
    shared = [d for d in row["data"] if d["shared"]]
    assert [d["title"] for d in shared] == ["参保状态（社会保险参保信息）", "累计缴费月数（社会保险参保信息）"]
    assert shared[0]["source"] == "社会保险参保信息（云溪市人力资源和社会保障局），经数据共享交换按授权调取"


def test_each_subject_read_costs_a_fixed_few_queries(insurance_register, population):
    """The per-subject path is the broker's: its authorisation query, the register read and the log append
    (``tongban.core.store`` statements); the ORM queries of a run do not grow with the subjects read."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tongban.core import store
    from tongban.exchange import services as exchange

    grant(insurance_register)
    services.save_policy(INSURED)
    services.match(["T-QNZF"], dry_run=True)  # warm the per-process caches (resources, validators)

    def cost() -> tuple[int, int, int]:
        before = store.STATEMENTS[0]
        with CaptureQueriesContext(connection) as ctx:
            row = services.match(["T-QNZF"], dry_run=True)["policies"][0]
        return len(ctx.captured_queries), store.STATEMENTS[0] - before, row["requested"]

    orm_one, store_one, sent_one = cost()
    for n in range(3):
        person = User.objects.create(username=f"qn{n}", display_name=f"青年{n}", kind=User.Kind.NATURAL_PERSON,
                                     id_number=f"91010219990{n + 1}01003{n}")
        exchange.upsert_provider_record(insurance_register, {"id_number": person.id_number, "status": "正常参保",
                                                             "months_paid": 12})
    orm_four, store_four, sent_four = cost()
    assert (sent_one, sent_four) == (1, 4)
    assert store_four - store_one == 3 * 3  # per subject: authorisation, register read, log append
    assert orm_four == orm_one, (orm_one, orm_four)


def test_an_event_reads_only_the_subject_it_is_about(insurance_register, population,
                                                     django_capture_on_commit_callbacks):
    from tongban.core import events

    grant(insurance_register)
    services.save_policy({**INSURED, "events": ["decision_made:X-ITEM"]}, publish=True)
    with django_capture_on_commit_callbacks(execute=True):
        events.decision_made.send(sender=None, application_ref="A1", item_code="X-ITEM", outcome="approved",
                                  holder={"id_number": population["young"].id_number}, result={},
                                  organisation_code="yx-rsj")
    m = PolicyMatch.objects.get()
    assert m.subject_name == "小李" and m.run.trigger == "event"
    [entry] = AccessLogEntry.objects.all()
    assert entry.actor == "policies:event" and entry.subject_id == population["young"].id_number


def test_the_command_line_names_the_refusal_and_ends_with_the_total(insurance_register, population):
    import typer
    from typer.testing import CliRunner

    from tongban.policies.cli import register

    app = typer.Typer()
    register(app)
    services.save_policy(INSURED, publish=True)
    refused = CliRunner().invoke(app, ["policy", "match", "--policy", "T-QNZF"])
    assert refused.exit_code == 0, refused.output
    lines = refused.output.strip().splitlines()
    assert lines[-1] == "matched=0"
    assert any(line.startswith("  refused: 政策“青年人租房补贴”（T-QNZF）不能调取“社会保险参保信息”") for line in lines)
    grant(insurance_register)
    ok = CliRunner().invoke(app, ["policy", "match", "--policy", "T-QNZF"])
    assert ok.output.strip().splitlines()[-1] == "matched=1" and "refused" not in ok.output
    assert "  shared data: 1 requests to the exchange (each in its access log)" in ok.output

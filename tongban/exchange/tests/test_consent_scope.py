"""A consent is given and withdrawn in a citizen's name only by the citizen, a window clerk recording one given on
paper (docs/exchange.md) or the admin — no other staff member, whatever their department (issue 17)."""

from __future__ import annotations

import pytest

from tongban.core import pii
from tongban.core.models import AuditLog, User
from tongban.exchange import errors, selectors, services
from tongban.exchange.errors import ExchangeError
from tongban.exchange.models import Consent

pytestmark = pytest.mark.django_db

ZHANGSAN = "910102199001011234"
BODY = {"code": "household_register", "consumer_org": "yx-rsj", "purpose": "工伤认定核验户籍", "subject_id": ZHANGSAN}


def as_user(client, username: str):
    client.force_login(User.objects.get(username=username))
    return client


def post(client, url: str, data: dict):
    return client.post(url, data, content_type="application/json")


@pytest.mark.parametrize("username", ["approver-rsj", "approver-ga", "supervisor", "data-rsj"])
def test_other_staff_neither_record_nor_withdraw_a_consent(exchange_demo, client, username):
    consent = services.give_consent(subject_id=ZHANGSAN, code="household_register", consumer_org="yx-rsj",
                                    purpose="工伤认定", user=User.objects.get(username="zhangsan"))
    as_user(client, username)
    r = post(client, "/api/exchange/consents", BODY)
    assert r.status_code == 403 and r.json()["code"] == errors.FORBIDDEN
    assert Consent.objects.filter(pii.matching("subject_id", ZHANGSAN)).count() == 1
    r = post(client, f"/api/exchange/consents/{consent.ref}/withdraw", {})
    assert r.status_code == 403 and r.json()["code"] == errors.FORBIDDEN
    page = client.post(f"/exchange/my-data/consents/{consent.ref}/withdraw/", follow=True)
    assert "只能撤回本人的授权" in page.content.decode()
    consent.refresh_from_db()
    assert consent.withdrawn_at is None


@pytest.mark.parametrize("username", ["clerk", "clerk-ch", "admin"])
def test_a_window_clerk_records_a_consent_given_on_paper(exchange_demo, client, username):
    as_user(client, username)
    r = post(client, "/api/exchange/consents", BODY)
    assert r.status_code == 201, r.content
    consent = Consent.objects.get(ref=r.json()["ref"])
    assert consent.subject_id == ZHANGSAN and consent.user.username == username  # who recorded it
    assert AuditLog.objects.filter(action="exchange.consent.give", object_id=str(consent.pk)).exists()
    r = post(client, f"/api/exchange/consents/{consent.ref}/withdraw", {})
    assert r.status_code == 200 and r.json()["withdrawn_at"]


def test_a_citizen_acts_for_themself_only(exchange_demo, client):
    as_user(client, "lisi")
    r = post(client, "/api/exchange/consents", BODY)
    assert r.status_code == 403
    mine = services.give_consent(subject_id=ZHANGSAN, code="household_register", consumer_org="yx-rsj",
                                 purpose="工伤认定", user=User.objects.get(username="zhangsan"))
    with pytest.raises(ExchangeError) as err:
        services.withdraw_consent(mine, user=User.objects.get(username="lisi"))
    assert err.value.status == 403
    assert selectors.may_act_for_subject(None, ZHANGSAN)  # the platform on the subject's behalf

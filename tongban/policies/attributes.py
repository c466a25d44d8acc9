"""The attributes policies are written over, and the population they are matched against.

Every attribute names the data it comes from (shown with each policy: 数据来源), all held by the platform:

- persons (自然人): the signed-up natural persons (统一身份认证 accounts) — age and gender from the ID number, and
  the days since an item was approved for them (``person.days_since_approval:ITEM_CODE``, from the case records);
- entities (市场主体): supervision's entity register — kind, credit grade, days since establishment, industry,
  status, division.

Data another department holds (社保、户籍) would come through the exchange under a grant, per matched subject;
that provider is not written yet (docs/smart-services.md). A deployment adds attributes with
``ATTRIBUTES.register``; a provider computes one attribute for many subjects at once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Max
from django.utils import timezone

from tongban.core import pii
from tongban.core.registry import Registry


@dataclass(frozen=True)
class Attribute:
    name: str
    title: str
    subject: str  # person / entity
    source: str  # which data, held by whom (plain Chinese)
    display: Callable[[Any], str] | None = None


@dataclass
class Subject:
    id_number: str
    name: str
    user_id: int | None
    key: Any  # the row id of its source (user id, entity id)
    attrs: dict[str, Any] = field(default_factory=dict)


ATTRIBUTES: Registry[str, Attribute] = Registry("政策属性")
# name → provider(subjects, argument) setting subject.attrs[full name] for every subject it knows
PROVIDERS: Registry[str, Callable[[list[Subject], str, str], None]] = Registry("政策属性来源")


def _register(attribute: Attribute, provider: Callable[[list[Subject], str, str], None]) -> None:
    ATTRIBUTES.register(attribute.name, attribute)
    PROVIDERS.register(attribute.name, provider)


def birth_date(id_number: str) -> dt.date | None:
    digits = (id_number or "").strip()
    if len(digits) != 18 or not digits[:17].isdigit():
        return None
    try:
        return dt.date(int(digits[6:10]), int(digits[10:12]), int(digits[12:14]))
    except ValueError:
        return None


def _age(subjects: list[Subject], full: str, _arg: str) -> None:
    today = timezone.localdate()
    for s in subjects:
        born = birth_date(s.id_number)
        s.attrs[full] = (today.year - born.year - ((today.month, today.day) < (born.month, born.day))
                         if born else None)


def _gender(subjects: list[Subject], full: str, _arg: str) -> None:
    for s in subjects:
        digits = s.id_number.strip()
        s.attrs[full] = ("男" if int(digits[16]) % 2 else "女") if len(digits) == 18 and digits[16].isdigit() else None


def _days_since_approval(subjects: list[Subject], full: str, item_code: str) -> None:
    from tongban.applications.models import ApplicationItem

    users = [s.user_id for s in subjects if s.user_id]
    latest = dict(ApplicationItem.objects.filter(
        item__code=item_code, status=ApplicationItem.Status.APPROVED, application__applicant_id__in=users,
        decided_at__isnull=False).values_list("application__applicant_id").annotate(at=Max("decided_at")))
    today = timezone.localdate()
    for s in subjects:
        at = latest.get(s.user_id)
        s.attrs[full] = (today - timezone.localdate(at)).days if at else None


def _entity_field(column: str, transform: Callable[[Any], Any] = lambda v: v
                  ) -> Callable[[list[Subject], str, str], None]:
    def provider(subjects: list[Subject], full: str, _arg: str) -> None:
        from tongban.supervision.models import MarketEntity

        ids = [s.key for s in subjects]
        values: dict[int, Any] = {}
        for start in range(0, len(ids), 5000):
            values.update(MarketEntity.objects.filter(pk__in=ids[start:start + 5000]).values_list("pk", column))
        for s in subjects:
            s.attrs[full] = transform(values.get(s.key))
    return provider


def _days_since(value: Any) -> int | None:
    return (timezone.localdate() - value).days if value else None


def _kind_label(value: Any) -> str:
    from tongban.supervision.models import MarketEntity

    return dict(MarketEntity.Kind.choices).get(value, str(value))


_register(Attribute("person.age", "年龄（周岁）", "person", "公民身份号码（统一身份认证实名信息）"), _age)
_register(Attribute("person.gender", "性别", "person", "公民身份号码（统一身份认证实名信息）"), _gender)
_register(Attribute("person.days_since_approval", "距事项办结天数", "person", "本平台办件记录（审批结果）"),
          _days_since_approval)
_register(Attribute("entity.kind", "主体类型", "entity", "市场主体名录（市场监管局）", _kind_label),
          _entity_field("kind"))
_register(Attribute("entity.credit_grade", "信用等级", "entity", "信用分级分类结果（市场监管局）"),
          _entity_field("grade"))
_register(Attribute("entity.established_days", "成立天数", "entity", "市场主体名录：成立日期（市场监管局）"),
          _entity_field("established_on", _days_since))
_register(Attribute("entity.industry", "行业门类", "entity", "市场主体名录：行业（市场监管局）"),
          _entity_field("industry"))
_register(Attribute("entity.status", "登记状态", "entity", "市场主体名录（市场监管局）"), _entity_field("status"))


def titles() -> dict[str, str]:
    return {name: a.title for name, a in ATTRIBUTES.items()}


def population(subject: str, only: Iterable[str] | None = None) -> list[Subject]:
    """Every person (signed-up natural persons) or entity (the register) the platform holds, or only those whose
    ID number / credit code is in ``only`` (event matching)."""
    from tongban.core.models import User

    wanted = {x.strip() for x in only} if only is not None else None
    if subject == "person":
        qs = User.objects.filter(kind=User.Kind.NATURAL_PERSON, is_active=True).exclude(id_number_hash="")
        if wanted is not None:
            qs = qs.filter(id_number_hash__in=[pii.lookup_hash(x) for x in wanted])
        return [Subject(u.id_number, u.display_name or u.username, u.pk, u.pk)
                for u in qs.only("pk", "id_number", "display_name", "username")]
    from tongban.supervision.models import MarketEntity

    entities = MarketEntity.objects.filter(status=MarketEntity.Status.ACTIVE)
    if wanted is not None:
        entities = entities.filter(uscc__in=wanted)
    accounts = {u.id_number_hash: u.pk for u in User.objects.filter(kind=User.Kind.LEGAL_PERSON).exclude(
        id_number_hash="").only("pk", "id_number_hash")}
    return [Subject(uscc, name, accounts.get(pii.lookup_hash(uscc)), pk)
            for pk, uscc, name in entities.values_list("pk", "uscc", "name")]


def fill(subjects: list[Subject], names: Iterable[str]) -> None:
    """Compute the attributes ``names`` (``name`` or ``name:argument``) for every subject, one provider call each."""
    for full in dict.fromkeys(names):
        base, _, arg = full.partition(":")
        PROVIDERS.get(base)(subjects, full, arg)


def display(full: str, value: Any) -> str:
    attribute = ATTRIBUTES.find(full.split(":", 1)[0])
    if value is None:
        return "（无记录）"
    if attribute is not None and attribute.display is not None:
        return attribute.display(value)
    return str(value)

"""The attributes policies are written over, and the population they are matched against.

Every attribute names the data it comes from (shown with each policy: 数据来源):

- persons (自然人): the signed-up natural persons (统一身份认证 accounts) — age and gender from the ID number, and
  the days since an item was approved for them (``person.days_since_approval:ITEM_CODE``, from the case records);
- entities (市场主体): supervision's entity register — kind, credit grade, days since establishment, industry,
  status, division;
- data another department holds (社保、户籍 ...): ``exchange:RESOURCE.FIELD``, a data item of a resource of the
  exchange's catalogue (政务信息资源目录), read per subject through the exchange under the policy's implementing
  department's grant (:func:`fetch_shared`): every read is authorised by the broker (grant, fields, consent or a
  consent-exempt grant) and written to the exchange's access log (查询留痕), refusals included.

A deployment adds attributes with ``ATTRIBUTES.register``; a provider computes one attribute for many subjects at
once. Shared attributes have no provider: they are read by :func:`fetch_shared`, for one policy (its department,
its purpose) and only for the subjects the policy's other conditions leave.
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

from .errors import PolicyError, SharedDataRefused, SharedDataUnavailable


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


# --- data of other departments, through the exchange ----------------------------------------------------------

SHARED = "exchange"  # exchange:RESOURCE.FIELD


def _shown(value: Any) -> str:
    return "、".join(map(str, value)) if isinstance(value, list) else str(value)


def _not_filled(subjects: list[Subject], full: str, _arg: str) -> None:
    raise PolicyError(f"{full} 是共享数据，只能按政策经数据共享交换调取（attributes.fetch_shared）",
                      code="policies.shared_attribute")


_register(Attribute(SHARED, "共享数据", "any", "数据共享交换（按政策实施部门的共享授权逐人调取，留痕）", _shown),
          _not_filled)


@dataclass(frozen=True)
class SharedRef:
    resource: str  # the data resource's code in the exchange catalogue
    field: str  # one of its data items


def shared_ref(full: str) -> SharedRef | None:
    """``exchange:social_insurance.months_paid`` → SharedRef("social_insurance", "months_paid"); None otherwise."""
    base, _, arg = full.partition(":")
    if base != SHARED:
        return None
    resource, _, item = arg.partition(".")
    return SharedRef(resource, item)


def is_shared(full: str) -> bool:
    return full.partition(":")[0] == SHARED


def _resource(code: str) -> Any:
    from tongban.exchange import selectors as exchange

    return exchange.resource(code)


def check_shared(full: str) -> None:
    """A shared attribute names an active resource of the catalogue and one of its data items, else PolicyError."""
    ref = shared_ref(full)
    if ref is None:
        return
    resource = _resource(ref.resource) if ref.resource else None
    if resource is None or not resource.active:
        raise PolicyError(f"属性 {full}：数据资源“{ref.resource}”不在数据资源目录中或已停用（写法 exchange:资源编码.数据项）",
                          code="policies.unknown_attribute")
    if ref.field not in resource.field_names:
        raise PolicyError(f"属性 {full}：“{resource.name}”没有数据项“{ref.field}”（可用：{'、'.join(resource.field_names)}）",
                          code="policies.unknown_attribute")


def title_of(full: str) -> str:
    """The attribute in words: ``年龄（周岁）``; a shared one by its item and resource, ``累计缴费月数（社会保险参保信息）``."""
    ref = shared_ref(full)
    if ref is not None:
        resource = _resource(ref.resource)
        if resource is None:
            return full
        spec = ((resource.schema or {}).get("properties") or {}).get(ref.field) or {}
        return f"{spec.get('title', ref.field)}（{resource.name}）"
    attribute = ATTRIBUTES.find(full.split(":", 1)[0])
    return attribute.title if attribute is not None else full


def source_of(full: str) -> str:
    """Where the data comes from, in words (数据来源)."""
    ref = shared_ref(full)
    if ref is not None:
        resource = _resource(ref.resource)
        owner = resource.owner.name if resource is not None else "提供部门"
        return f"{resource.name if resource else ref.resource}（{owner}），经数据共享交换按授权调取"
    attribute = ATTRIBUTES.find(full.split(":", 1)[0])
    return attribute.source if attribute is not None else ""


def fetch_shared(subjects: list[Subject], names: Iterable[str], *, policy: Any, purpose: str,
                 actor_label: str = "", actor_id: int | None = None) -> dict[str, dict[str, Any]]:
    """Read the shared attributes ``names`` of ``subjects`` for ``policy`` through the exchange: one request per
    subject and resource, as the policy's implementing department (``policy.department``, the consumer that must
    hold the grant), for ``purpose``. Each request goes through the exchange's broker, which authorises it and
    appends it to the access log (granted, refused or failed) before any data comes back.

    Returns ``{id_number: {attribute: value}}`` (None where the register has no record of the subject). Raises
    :class:`SharedDataRefused` naming the policy and the resource when the department may not read it (no grant,
    pending, expired or revoked, fields outside the grant, no consent and no consent-exempt grant, or only a
    masked value, which cannot be compared), and :class:`SharedDataUnavailable` when the provider fails: the
    policy is then not decided in this run, never decided on partial data."""
    from tongban.core import evidence

    wanted: dict[str, list[tuple[str, str]]] = {}
    for full in dict.fromkeys(names):
        ref = shared_ref(full)
        if ref is not None:
            wanted.setdefault(ref.resource, []).append((full, ref.field))
    out: dict[str, dict[str, Any]] = {s.id_number: {} for s in subjects}
    sent = 0  # requests sent to the exchange (each one an entry of its access log)
    if not wanted or not subjects:
        return out
    who = f"政策“{policy.name}”（{policy.code}）"
    if not policy.department:
        raise SharedDataRefused(f"{who}未写明实施部门，无法以部门的共享授权调取共享数据",
                                detail={"policy": policy.code, "resource": next(iter(wanted))})
    for code, items in wanted.items():
        resource = _resource(code)
        name = resource.name if resource is not None else code
        fields = tuple(dict.fromkeys(item for _, item in items))
        detail = {"policy": policy.code, "resource": code, "consumer": policy.department}
        for s in subjects:
            sent += 1
            request = evidence.EvidenceRequest(
                source=evidence.SHARED, code=code, subject_id=s.id_number, requester_org=policy.department,
                purpose=purpose, case_ref=f"policy:{policy.code}"[:64], actor_id=actor_id, actor_label=actor_label,
                fields=fields)
            try:
                got = evidence.fetch(request)
            except evidence.EvidenceNotFound:
                for full, _ in items:
                    out[s.id_number][full] = None  # no record of the subject: the condition does not hold
                continue
            except evidence.EvidenceRefused as exc:
                raise SharedDataRefused(f"{who}不能调取“{name}”（{code}）：{exc.message}",
                                        detail={**detail, "reason": exc.code, "requests": sent}) from exc
            except evidence.EvidenceError as exc:
                raise SharedDataUnavailable(f"{who}调取“{name}”（{code}）失败，本次不认定该政策：{exc.message}",
                                            detail={**detail, "reason": exc.code, "requests": sent}) from exc
            masked = [item for item in fields if item in got.masked_fields]
            if masked:
                raise SharedDataRefused(
                    f"{who}不能使用“{name}”（{code}）：共享授权只提供脱敏的“{'、'.join(masked)}”，无法据以认定，"
                    "请提供部门在授权中列为明文数据项",
                    detail={**detail, "reason": "policies.masked", "fields": masked, "requests": sent})
            for full, item in items:
                out[s.id_number][full] = got.data.get(item)
    return out


def requests_for(subjects: list[Subject], rule: list[dict[str, Any]]) -> int:
    """The exchange requests :func:`fetch_shared` sends for ``subjects`` and the shared conditions ``rule``."""
    return len(subjects) * len({ref.resource for c in rule if (ref := shared_ref(c["attr"])) is not None})


def titles() -> dict[str, str]:
    return {name: a.title for name, a in ATTRIBUTES.items()}


def titles_for(rule: list[dict[str, Any]]) -> dict[str, str]:
    """The registered titles plus every attribute of ``rule`` by its full name (a shared one by its data item)."""
    return titles() | {c["attr"]: title_of(c["attr"]) for c in rule if isinstance(c, dict) and "attr" in c}


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

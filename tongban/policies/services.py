"""免申即享 writes: load and publish policies, match them (batch, event, dry run), proactive notices, one-click
confirmation into a prefilled application, decline and opt-out."""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from tongban.core import pii
from tongban.core.errors import DomainError
from tongban.core.models import Role, User
from tongban.core.selectors import has_role
from tongban.core.services import audit

from . import attributes, delivery, rules
from .errors import BadState, Forbidden, NotFound, PolicyError
from .models import MatchRun, OptOut, Policy, PolicyMatch

log = logging.getLogger("tongban.policies")

POLICY_FIELDS = ("name", "kind", "subject", "department", "description", "legal_basis", "rule", "reason", "events",
                 "item_code", "prefill", "auto_decide")


def is_officer(user: User | None) -> bool:
    """政策管理: staff of the platform's administration (政务服务管理机构) or a superuser."""
    return bool(user and user.is_authenticated and (user.is_superuser or has_role(user, Role.ADMINISTRATOR)))


def require_officer(user: User | None) -> None:
    if not is_officer(user):
        raise Forbidden("只有政务服务管理人员可以管理和试算政策")


def save_policy(data: dict[str, Any], *, publish: bool = False, actor: User | None = None) -> Policy:
    """Create or update a policy (a changed published policy becomes a new version); validates the rule."""
    code = str(data.get("code") or "").strip()
    if not code or not data.get("name"):
        raise PolicyError("政策须有编码和名称", code="policies.bad_policy")
    if data.get("subject") not in Policy.Subject.values or data.get("kind") not in Policy.Kind.values:
        raise PolicyError(f"{code}：对象须为 {Policy.Subject.values} 之一，类型须为 {Policy.Kind.values} 之一",
                          code="policies.bad_policy")
    rules.validate(data.get("rule"), attributes.titles())
    if not data.get("legal_basis"):
        raise PolicyError(f"{code}：须写明政策依据", code="policies.no_legal_basis")
    shared = [c["attr"] for c in data["rule"] if attributes.is_shared(c["attr"])]
    for attr in shared:
        attributes.check_shared(attr)
    if shared and not data.get("department"):
        raise PolicyError(f"{code}：使用共享数据（{'、'.join(shared)}）的政策须写明实施部门：以该部门的共享授权调取",
                          code="policies.no_department")
    values = {k: data[k] for k in POLICY_FIELDS if k in data}
    with transaction.atomic():
        policy = Policy.objects.select_for_update().filter(code=code).first()
        if policy is None:
            policy = Policy.objects.create(code=code, **values)
        else:
            changed = any(getattr(policy, k) != v for k, v in values.items())
            for k, v in values.items():
                setattr(policy, k, v)
            if changed:
                policy.version += 1
            policy.save()
        if publish and policy.status != Policy.Status.PUBLISHED:
            publish_policy(policy, actor)
    return policy


def publish_policy(policy: Policy, actor: User | None) -> Policy:
    policy.status, policy.published_at, policy.published_by = Policy.Status.PUBLISHED, timezone.now(), actor
    policy.save(update_fields=["status", "published_at", "published_by", "updated_at"])
    audit("policies.publish", actor=actor, obj=policy, detail={"code": policy.code, "version": policy.version})
    return policy


def load_policies(path: str | Path, actor: User | None = None) -> list[Policy]:
    """Load a policy file (JSON ``{"policies": [...]}``, each with ``status`` draft or published); all or nothing."""
    try:
        doc = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise PolicyError(f"{path}: 无法读取政策文件：{exc}", code="policies.bad_file") from exc
    with transaction.atomic():
        return [save_policy(p, publish=p.get("status") == "published", actor=actor) for p in doc.get("policies", [])]


def reason_for(policy: Policy, facts: dict[str, Any], titles: dict[str, str] | None = None) -> str:
    """The plain-Chinese reason of a match: the policy's template filled with the facts, or the conditions."""
    shown = {k: attributes.display(k, v) for k, v in facts.items()}
    if policy.reason:
        text = policy.reason
        for k, v in shown.items():
            text = text.replace("{" + k + "}", v)
        return text
    conditions = rules.describe(policy.rule, titles if titles is not None else attributes.titles_for(policy.rule))
    return f"根据{policy.legal_basis[0].get('law', '')}，您符合“{policy.name}”的条件：" + "；".join(conditions) + "。"


def _opted_out(policy: Policy) -> set[str]:
    return set(OptOut.objects.filter(policy__isnull=True).values_list("subject_hash", flat=True)) | set(
        OptOut.objects.filter(policy=policy).values_list("subject_hash", flat=True))


def _purpose(policy: Policy, dry_run: bool) -> str:
    """What a read of shared data is for, as the access log (and the person's 我的数据) shows it."""
    basis = "；".join(f"{b.get('law', '')}{b.get('article', '')}" for b in policy.legal_basis or [] if b.get("law"))
    return (f"免申即享政策{'试算' if dry_run else '匹配'}：{policy.name}（{policy.code}）"
            + (f"，依据{basis}" if basis else ""))[:300]


def _read_shared(policy: Policy, candidates: list[attributes.Subject], shared_rule: list[dict[str, Any]], *,
                 skip: tuple[set[str], set[str]], dry_run: bool, label: str, actor: User | None
                 ) -> tuple[list[attributes.Subject], dict[str, dict[str, Any]], int, int, str]:
    """The second step of a policy over shared data: read it through the exchange for the ``candidates`` (those who
    passed the other conditions) less the opted-out and already-told subjects (``skip``: their keyed hashes), then
    test the shared conditions. Returns (hits, attributes by ID number, opted out, requests sent, refusal)."""
    barred, known = skip
    digests = {s.id_number: pii.lookup_hash(s.id_number) for s in candidates}
    opted = sum(1 for s in candidates if digests[s.id_number] in barred)  # not read at all
    left_out = barred | known
    to_read = [s for s in candidates if digests[s.id_number] not in left_out]
    try:
        fetched = attributes.fetch_shared(to_read, rules.attributes_of(shared_rule), policy=policy,
                                          purpose=_purpose(policy, dry_run), actor_label=label,
                                          actor_id=actor.pk if actor and actor.pk else None)
    except PolicyError as exc:  # SharedDataRefused / SharedDataUnavailable: never decided on partial data
        log.warning("policies: %s", exc.message)
        return [], {}, opted, (exc.detail or {}).get("requests", 0), exc.message
    test = rules.compile_rule(shared_rule)
    attrs_of = {s.id_number: {**s.attrs, **fetched[s.id_number]} for s in to_read}
    hits = [s for s in to_read if test(attrs_of[s.id_number])]
    return hits, attrs_of, opted, attributes.requests_for(to_read, shared_rule), ""


def match(codes: list[str] | None = None, *, dry_run: bool = False, trigger: str = MatchRun.Trigger.BATCH,
          event: str = "", only: list[str] | None = None, actor: User | None = None, sample: int = 5
          ) -> dict[str, Any]:
    """Match policies against the population (or the subjects ``only``): published ones, or ``codes``.

    Not a dry run: each new match becomes a :class:`PolicyMatch` and a notice (unless the subject opted out);
    a subject already matched is not told twice. A dry run (drafts allowed) writes only the run's record.

    A policy over shared data (``exchange:RESOURCE.FIELD``) is evaluated in two steps: its conditions on data the
    platform holds first, then the shared data is read through the exchange only for the subjects left, less those
    who opted out and (not a dry run) those already told; each read is in the exchange's access log, a dry run's
    too (its purpose says 试算). When the exchange refuses (no usable grant ...) or the provider fails, the policy
    matches nobody in this run and its row says why (``refused``).

    Returns ``{"run": MatchRun, "policies": [{"code", "name", "matched", "new", "opted_out", "requested", "refused",
    "sample"}]}`` (``requested``: the requests of shared data sent to the exchange, one per subject and resource, each
    an entry of its access log, granted or not)."""
    qs = Policy.objects.all() if dry_run else Policy.objects.filter(status=Policy.Status.PUBLISHED)
    if codes:
        qs = qs.filter(code__in=codes)
        missing = set(codes) - set(qs.values_list("code", flat=True))
        if missing:
            raise NotFound(f"没有政策 {', '.join(sorted(missing))}" + ("" if dry_run else "（或尚未发布：请先试算再发布）"))
    else:
        qs = qs.filter(status=Policy.Status.PUBLISHED)
    policies = list(qs)
    started = time.perf_counter()
    by_subject: dict[str, list[attributes.Subject]] = {}
    for kind in {p.subject for p in policies}:
        people = attributes.population(kind, only)
        attributes.fill(people, [a for p in policies if p.subject == kind for a in rules.attributes_of(p.rule)
                                 if not attributes.is_shared(a)])
        by_subject[kind] = people
    results = []
    run = MatchRun(trigger=MatchRun.Trigger.DRY_RUN if dry_run else trigger, event=event,
                   policy_codes=[p.code for p in policies], started_by=actor if actor and actor.pk else None,
                   population={k: len(v) for k, v in by_subject.items()})
    if not dry_run:
        run.save()
    label = actor.username if actor and actor.pk else f"policies:{run.trigger}"
    for policy in policies:
        used = rules.attributes_of(policy.rule)
        titles = attributes.titles_for(policy.rule)
        local = rules.compile_rule([c for c in policy.rule if not attributes.is_shared(c["attr"])])
        shared_rule = [c for c in policy.rule if attributes.is_shared(c["attr"])]
        candidates = [s for s in by_subject[policy.subject] if local(s.attrs)]
        new = opted = requested = 0
        refused = ""
        barred: set[str] = set()
        known: set[str] = set()
        if candidates and (shared_rule or not dry_run):
            barred = _opted_out(policy)
        if candidates and not dry_run:
            known = set(PolicyMatch.objects.filter(policy=policy).values_list("subject_hash", flat=True))
        attrs_of: dict[str, dict[str, Any]] = {}
        if shared_rule and candidates:
            hits, attrs_of, opted, requested, refused = _read_shared(
                policy, candidates, shared_rule, skip=(barred, known), dry_run=dry_run, label=label, actor=actor)
        else:
            hits = candidates
        if not dry_run and hits:
            for s in hits:
                digest = pii.lookup_hash(s.id_number)
                if digest in barred:
                    opted += 1
                    continue
                if digest in known:
                    continue
                facts = {a: attrs_of.get(s.id_number, s.attrs).get(a) for a in used}
                try:
                    with transaction.atomic():
                        m = PolicyMatch.objects.create(policy=policy, subject_id_number=s.id_number,
                                                       subject_name=s.name, user_id=s.user_id, facts=facts,
                                                       reason=reason_for(policy, facts, titles), run=run)
                        delivery.deliver(m)  # the match and its message stand or fall together
                except IntegrityError:  # matched meanwhile by another run
                    continue
                new += 1
        results.append({"code": policy.code, "name": policy.name, "status": policy.status, "matched": len(hits),
                        "new": new, "opted_out": opted, "requested": requested, "refused": refused,
                        "sample": [{"name": s.name, "reason": reason_for(
                            policy, {a: attrs_of.get(s.id_number, s.attrs).get(a) for a in used}, titles)}
                                   for s in hits[:sample]]})
    run.counts = {r["code"]: {k: r[k] for k in ("matched", "new", "opted_out", "requested", "refused")}
                  for r in results}
    run.seconds = round(time.perf_counter() - started, 3)
    if not dry_run:
        run.save(update_fields=["counts", "seconds"])
    else:
        run.save()
        audit("policies.dry_run", actor=actor, obj=run, detail={"policies": run.policy_codes, "counts": run.counts})
    return {"run": run, "policies": results}


def match_event(event: str, subject_ids: list[str]) -> dict[str, Any] | None:
    """Match the published policies that listen to ``event`` (e.g. ``decision_made:ITEM_CODE``) for the subjects
    the event is about; None when no policy listens."""
    codes = [p.code for p in Policy.objects.filter(status=Policy.Status.PUBLISHED) if event in (p.events or [])]
    ids = [s for s in subject_ids if s]
    if not codes or not ids:
        return None
    return match(codes, trigger=MatchRun.Trigger.EVENT, event=event, only=ids)


# --- the person's side -------------------------------------------------------------------------------------


def _own(match_id: int, user: User) -> PolicyMatch:
    m = PolicyMatch.objects.select_related("policy").filter(pk=match_id).first()
    if m is None or not user.id_number or m.subject_hash != pii.lookup_hash(user.id_number):
        raise NotFound("没有这条政策告知")
    return m


def confirm(match_id: int, user: User) -> PolicyMatch:
    """One click: create the application of the policy's item with everything the platform knows prefilled;
    a policy that allows it submits at once (the item's decision table decides: 秒批)."""
    from tongban.applications import services as applications

    m = _own(match_id, user)
    if m.status != PolicyMatch.Status.NOTIFIED:
        raise BadState(f"这条政策告知已{m.get_status_display()}")
    policy = m.policy
    if not policy.item_code:
        raise BadState("该政策无需申请，将直接兑现")
    form = {"applicant_name": user.display_name or user.username, "applicant_id_number": user.id_number}
    subject = {"subject:name": m.subject_name, "subject:id_number": m.subject_id_number}
    for field, source in (policy.prefill or {}).items():
        if field.startswith("_"):
            continue
        if isinstance(source, str) and source.startswith("attr:"):
            form[field] = (m.facts or {}).get(source[5:])
        else:
            form[field] = subject.get(source, source) if isinstance(source, str) else source
    answers = (policy.prefill or {}).get("_situation") or {}  # the guide's answers, for an item with situations
    app = applications.create_application(user=user, item_code=policy.item_code, situations={
        policy.item_code: applications.Selection(policy.item_code, answers=answers)} if answers else None)
    schema_fields = set((applications.application_schema(app) or {}).get("properties") or {})
    form = {k: v for k, v in form.items() if k in schema_fields and v is not None}
    applications.save_draft(app, user, form)
    submitted = False
    if policy.auto_decide and not applications.missing_materials(app):
        try:
            applications.submit(app, user, form)
            submitted = True
        except DomainError:  # a prefill the form refuses leaves the draft for the person to finish
            submitted = False
    m.status, m.answered_at, m.application_ref = PolicyMatch.Status.CONFIRMED, timezone.now(), app.ref
    m.save(update_fields=["status", "answered_at", "application_ref"])
    audit("policies.confirm", actor=user, obj=m, detail={"policy": policy.code, "application": app.ref,
                                                         "submitted": submitted})
    return m


def decline(match_id: int, user: User) -> PolicyMatch:
    m = _own(match_id, user)
    if m.status != PolicyMatch.Status.NOTIFIED:
        raise BadState(f"这条政策告知已{m.get_status_display()}")
    m.status, m.answered_at = PolicyMatch.Status.DECLINED, timezone.now()
    m.save(update_fields=["status", "answered_at"])
    return m


def opt_out(user: User, *, match_id: int | None = None, all_policies: bool = False) -> int:
    """Stop proactive notices: of one policy (the one of ``match_id``) or of every policy; returns the open
    notices withdrawn."""
    if not user.id_number:
        raise PolicyError("请先完成实名认证", code="policies.identity_required", status=403)
    policy = None if all_policies else (_own(match_id, user).policy if match_id else None)
    if policy is None and not all_policies:
        raise PolicyError("请指明退订哪项政策，或退订全部", code="policies.bad_opt_out")
    with transaction.atomic():
        digest = pii.lookup_hash(user.id_number)
        if not OptOut.objects.filter(subject_hash=digest, policy=policy).exists():
            OptOut.objects.create(subject_id_number=user.id_number, policy=policy)
        open_ = PolicyMatch.objects.filter(subject_hash=digest, status=PolicyMatch.Status.NOTIFIED)
        if policy is not None:
            open_ = open_.filter(policy=policy)
        count = open_.update(status=PolicyMatch.Status.OPTED_OUT, answered_at=timezone.now())
    audit("policies.opt_out", actor=user, detail={"policy": policy.code if policy else "*"})
    return count

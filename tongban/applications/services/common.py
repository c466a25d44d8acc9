"""What the application services share: the status sets, the case log, the edit guard, material rows, notices."""

from __future__ import annotations

from typing import Any

from django.db import connection, models, transaction
from django.db.models import Max
from django.utils import timezone

from tongban.catalog.models import Material
from tongban.core import sealing, site
from tongban.core.models import User

from .. import documents, files
from ..errors import ApplicationError
from ..models import Application, ApplicationEvent, ApplicationMaterial, Notice, SequenceCounter
from ..selectors import is_party

DEFAULT_SUPPLEMENT_WORKING_DAYS = 5
OPEN_STATUSES = Application.OPEN_STATUSES
PENDING_STATUSES = Application.PENDING_STATUSES
FINAL_STATUSES = Application.FINAL_STATUSES


def _label(user: User | None) -> str:
    return str(user) if user is not None and getattr(user, "is_authenticated", False) else "系统"


def timeline_entry(application: Application, kind: str, message: str, actor: User | None = None, **data: Any
                   ) -> ApplicationEvent:
    """One entry of the case's timeline, not yet written (for a step that writes its entries together)."""
    return ApplicationEvent(application=application, kind=kind, message=message[:300], actor_label=_label(actor),
                            data=data)


def log(application: Application, kind: str, message: str, actor: User | None = None, **data: Any
        ) -> ApplicationEvent:
    """One entry of the case's own timeline (shown to the applicant and kept in the e-archive)."""
    entry = timeline_entry(application, kind, message, actor, **data)
    entry.save(force_insert=True)
    return entry


def next_in_sequence(model: type[models.Model], field: str, prefix: str, width: int = 6) -> str:
    """``prefix`` + the next number of a daily/yearly sequence kept in ``field`` (zero-padded to ``width``).

    The number comes from the prefix's counter row, incremented with ``UPDATE … RETURNING``: the row lock
    held until the caller's transaction ends makes concurrent creates wait for each other instead of
    reading the same last number. The first call for a prefix seeds the counter from the highest number
    already in ``field`` (rows created before the counter existed); a rolled-back create leaves no gap
    because the increment rolls back with it."""
    table = connection.ops.quote_name(SequenceCounter._meta.db_table)
    sql = f"UPDATE {table} SET last = last + 1 WHERE prefix = %s RETURNING last"
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, [prefix])
        row = cursor.fetchone()
        if row is None:
            last = model._default_manager.filter(**{f"{field}__startswith": prefix}).aggregate(m=Max(field))["m"]
            seed = int(last[len(prefix):]) if last else 0
            # two first-of-the-day creates: the second insert waits for the first and is then ignored
            SequenceCounter.objects.bulk_create([SequenceCounter(prefix=prefix, last=seed)], ignore_conflicts=True)
            cursor.execute(sql, [prefix])
            row = cursor.fetchone()
    return f"{prefix}{row[0]:0{width}d}"


def require_party(app: Application, user: User) -> None:
    """Only the applicant or whoever submitted for them (an agent, a window clerk) may act on the case."""
    if not is_party(user, app):
        raise ApplicationError("无权操作该办件", code="application.forbidden", status=403)


def require_editable(app: Application, user: User) -> None:
    """The applicant's side may still change the case: it is theirs and it is open."""
    require_party(app, user)
    if app.status not in OPEN_STATUSES:
        raise ApplicationError(f"办件当前状态“{app.get_status_display()}”不可修改", code="application.not_editable",
                               status=409)


def material_row(app: Application, key: str) -> ApplicationMaterial:
    row = app.materials.filter(key=key).first()
    if row is None:
        raise ApplicationError(f"办件没有材料“{key}”", code="material.unknown", status=404)
    return row


def missing_materials(app: Application, *, tolerate: bool = False) -> list[ApplicationMaterial]:
    """Materials still owed. With ``tolerate`` the tolerable (容缺) ones are not counted as missing."""
    out = []
    for row in app.materials.all():
        if row.status != ApplicationMaterial.Status.MISSING:
            continue
        if row.requirement == Material.Requirement.OPTIONAL:
            continue
        if tolerate and row.requirement == Material.Requirement.TOLERABLE:
            continue
        out.append(row)
    return out


def issue_notice(app: Application, kind: str, content: dict[str, Any], user: User | None) -> Notice:
    """Render, store and record one notice (告知文书) with its verification code."""
    code = documents.new_code()
    titles = dict(Notice.Kind.choices)
    content = {"issuer": site.current().issuer, "issued_at": timezone.localtime().strftime("%Y年%m月%d日 %H:%M"), **content}
    centre = site.current().service_centre_code
    sealed = sealing.seal_pdf(documents.render_notice(titles[kind], content, code), centre, titles[kind])
    if sealed.sealed:
        content["seal"] = {"signer": sealed.signer, "algorithm": sealed.algorithm}
    stored = files.store_bytes(sealed.pdf, name=f"{app.ref}-{kind}.pdf", content_type="application/pdf")
    notice = Notice.objects.create(application=app, kind=kind, code=code, file=stored, content=content,
                                   issued_by=user if user and user.is_authenticated else None)
    log(app, "notice", f"出具{titles[kind]}（查验码 {code}）", user, notice=code)
    return notice


def base_facts(app: Application) -> list[tuple[str, str]]:
    """The facts every notice of a case starts with."""
    return [("办件编号", app.ref), ("申请事项", app.title), ("申请人", app.applicant_name),
            ("申请时间", timezone.localtime(app.submitted_at or app.created_at).strftime("%Y-%m-%d %H:%M"))]

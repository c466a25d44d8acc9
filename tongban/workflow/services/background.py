"""Background work (后台任务): due timers fired exactly once, service tasks run by the worker (and sent again when
still pending), failed service tasks retried."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from tongban.core.models import User

from ..config import WAITING
from ..engine import Run
from ..errors import WorkflowError
from ..lookups import actor_id, actor_label
from ..models import Event, ProcessInstance, Timer, Token
from .locks import RUNNING, _lock_instance
from .runtime import _drive


def fire_timer(timer_id: int, now: datetime | None = None) -> bool:
    """Fire one due timer, exactly once: the timer row is locked and ``fired_at`` checked inside the transaction
    that also moves the process on. Returns whether this call fired it."""
    now = now or timezone.now()
    row = Timer.objects.filter(pk=timer_id).values_list("instance_id", "instance__root_id").first()
    if row is None:
        return False
    with transaction.atomic():
        inst = _lock_instance(row[0], row[1])
        try:
            timer = Timer.objects.select_for_update().get(pk=timer_id)
        except Timer.DoesNotExist:
            return False
        if timer.fired_at is not None or timer.cancelled_at is not None or timer.due_at > now:
            return False
        timer.fired_at = now
        timer.save(update_fields=["fired_at"])
        if inst.status != RUNNING:
            return False
        run = Run.load(inst, None, now)
        fired = run.fire(timer)
        _drive(run)
        return fired


def fire_due_timers(now: datetime | None = None, limit: int = 1000) -> int:
    """Fire every due timer (a sweep that backs up the per-timer tasks). Returns how many this call fired."""
    now = now or timezone.now()
    ids = list(Timer.objects.filter(fired_at__isnull=True, cancelled_at__isnull=True, due_at__lte=now)
               .order_by("due_at").values_list("pk", flat=True)[:limit])
    fired = 0
    for pk in ids:
        try:
            fired += bool(fire_timer(pk, now))
        except WorkflowError as exc:
            _record_incident_for_timer(pk, exc)
    return fired


def resend_stale_service_tasks(now: datetime | None = None, older_than: timedelta = timedelta(minutes=5),
                               limit: int = 1000) -> int:
    """Enqueue again the service tasks still pending after ``older_than`` (a message lost between commit and
    the broker, a crashed worker). Safe to repeat: ``run_service_task`` runs a token's handler only while
    the token still waits for it. Returns how many were sent."""
    from .. import tasks as bg

    now = now or timezone.now()
    cutoff = (now - older_than).isoformat()
    stale = [t for t in Token.objects.filter(state=WAITING, data__service="pending").order_by("pk")[:limit]
             if str(t.data.get("since", "")) < cutoff]
    for token in stale:
        bg.enqueue_service(token)
    return len(stale)


def _record_incident_for_timer(timer_id: int, exc: WorkflowError) -> None:
    timer = Timer.objects.filter(pk=timer_id).first()
    if timer is None:
        return
    with transaction.atomic():
        ProcessInstance.objects.filter(pk=timer.instance_id).update(incident=f"{timer.element_id}: {exc}"[:300])
        Timer.objects.filter(pk=timer_id).update(fired_at=timezone.now())
        Event.objects.create(instance_id=timer.instance_id, element_id=timer.element_id, type="timer.failed",
                             actor_label="system", data={"code": exc.code, "error": str(exc)[:300]})


def run_service_task(token_id: int) -> bool:
    """Run the handler of a service task whose token waits for it (the worker calls this)."""
    row = Token.objects.filter(pk=token_id).values_list("instance_id", "instance__root_id").first()
    if row is None:
        return False
    with transaction.atomic():
        inst = _lock_instance(row[0], row[1])
        if inst.status != RUNNING:
            return False
        run = Run.load(inst)
        tok = run.tokens.get(token_id)
        if tok is None or tok.state != WAITING or tok.data.get("service") != "pending":
            return False
        if run.elements[tok.element_id]["type"] != "serviceTask":
            return False
        ok = run.run_service(tok)
        _drive(run)
        return ok


def retry_service_task(instance: ProcessInstance | int, actor: User | None = None) -> int:
    """Retry the failed service tasks of an instance (after fixing the cause). Returns how many were queued."""
    from .. import tasks as bg

    pk = instance.pk if isinstance(instance, ProcessInstance) else int(instance)
    with transaction.atomic():
        inst = _lock_instance(pk)
        failed = [t for t in Token.objects.filter(instance=inst, state=WAITING) if t.data.get("service") == "failed"]
        for t in failed:
            t.data = {**t.data, "service": "pending"}
            t.data.pop("error", None)
            t.save(update_fields=["data"])
            Event.objects.create(instance=inst, element_id=t.element_id, type="service.retried",
                                 actor_id=actor_id(actor), actor_label=actor_label(actor))
        if failed:
            inst.incident = ""
            inst.save(update_fields=["incident"])
        for t in failed:
            bg.enqueue_service(t)
    return len(failed)

"""The outbox: queue a message once, and wake senders for what is due (`sending` sends).

Exactly-once effect on top of at-least-once task delivery. A message is a row with a unique
dedupe key. Tasks carry no message: they wake a sender, which claims a few due rows in the
database (status SENDING, a claim token and a short lease), sends each on the worker process's
open mail connection and marks it SENT in the instant after the server accepted its DATA. So:
- a lost task loses nothing: rows stay QUEUED and the next dispatch tick wakes a sender;
- a sender that dies leaves its claimed rows SENDING; any sender takes them again when their lease
  has run out, and a sender whose claim was taken over never sends (never two sends at once);
- the one duplicate left is a kill between the server's acceptance and the commit that marks
  the row sent; the resend carries the stored Message-ID, so mail clients fold it.
Safety messages (pause, result and finding alerts, new dates) go on their own queue and every
sender claims them before anything else.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from email.utils import make_msgid
from typing import Any

from celery import current_app
from django.conf import settings
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from ..core.vocab import SAFETY_KINDS, TaskName, TaskQueue, conflict
from ..core.vocab import MessageStatus as Status
from ..models import Clinic, Message, MonitoringCheck, Patient, TherapyCourse
from .text import one_line


def message_queue(
    *,
    clinic: Clinic,
    recipient: str,
    kind: str,
    subject: str,
    dedupe_key: str,
    context: dict[str, Any] | None = None,
    patient: Patient | None = None,
    course: TherapyCourse | None = None,
    checks: Iterable[MonitoringCheck] = (),
    send_after: datetime | None = None,
) -> Message | None:
    """Queue a message unless one with this dedupe key exists; returns the new row or None."""
    with transaction.atomic():
        message, created = Message.objects.get_or_create(
            dedupe_key=dedupe_key,
            defaults={
                "clinic": clinic,
                "recipient": recipient,
                "kind": kind,
                "subject": one_line(subject)[:200],
                "context": context or {},
                "patient": patient,
                "course": course,
                "send_after": send_after or timezone.now(),
                "safety": kind in SAFETY_KINDS,
                "message_id": make_msgid(domain=_domain()),
            },
        )
        if created and checks:
            message.checks.set(checks)
    return message if created else None


def _domain() -> str:
    return settings.DEFAULT_FROM_EMAIL.rsplit("@", 1)[-1].strip("> ") or "localhost"


def dispatch_after_commit(*, safety: bool = False) -> None:
    """Wake a sender as soon as the current transaction commits (alerts go at once). Robust: a
    broker that is down does not undo or fail the write; the dispatch tick sends it later."""
    transaction.on_commit(lambda: senders_wake(safety=safety, count=1), robust=True)


def due_messages(now: datetime) -> QuerySet[Message]:
    """Rows a sender may claim: queued and due, or claimed by a sender whose lease ran out."""
    return Message.objects.filter(
        Q(status=Status.QUEUED, send_after__lte=now) | Q(status=Status.SENDING, lease_until__lt=now)
    )


def senders_wake(*, safety: bool, count: int) -> None:
    """Queue `count` sender tasks: on the safety queue (safety messages only) or the default
    one (everything due, safety first)."""
    queue = TaskQueue.SAFETY if safety else TaskQueue.DEFAULT
    for _ in range(count):
        current_app.send_task(TaskName.SEND_DUE_MESSAGES, kwargs={"safety": safety}, queue=queue)


def messages_dispatch(*, now: datetime | None = None) -> dict[str, int]:
    """The dispatch tick (beat, every few seconds): wake senders for what is due. It also covers
    every lost wake-up (a broker restarted without its data, a dispatcher killed): nothing waits
    for more than a tick and a lease. Returns how many were due, by path."""
    due = due_messages(now or timezone.now())
    safety = due.filter(safety=True).count()
    other = due.filter(safety=False).count()
    if safety:
        senders_wake(safety=True, count=1)
    batches = -(-other // settings.JAKMONITOR["SEND_BATCH"])
    if batches:
        senders_wake(safety=False, count=min(batches, settings.JAKMONITOR["SENDERS"]))
    return {"safety": safety, "other": other}


def message_requeue(*, message: Message) -> Message:
    """Put a failed message back in the queue (staff fixed the address, or the outage is over):
    sent at once, with its own Message-ID and a fresh retry period. Raises LifecycleConflict
    for a message that has not failed."""
    with transaction.atomic():
        locked = Message.objects.select_for_update().get(pk=message.pk)
        if locked.status != Status.FAILED:
            state = locked.get_status_display().lower()
            raise conflict("status", f"Only a failed message can be requeued; this one is {state}.")
        locked.status, locked.send_after = Status.QUEUED, timezone.now()
        locked.attempts, locked.failing_since = 0, None
        locked.save(update_fields=["status", "send_after", "attempts", "failing_since"])
        dispatch_after_commit(safety=locked.safety)
    return locked

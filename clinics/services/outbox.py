"""The outbox: queue a message once, claim due messages, send one, classify failures.

Exactly-once effect on top of at-least-once task delivery: a message is a row with a unique
dedupe key; a worker claims it (status SENDING with a lease), sends it with the Message-ID stored
on the row, then marks it SENT with a conditional update. A worker that dies mid-send leaves the
row SENDING; when the lease runs out the dispatcher queues it again, and the resend carries the
same Message-ID, so the one possible duplicate (the SMTP server accepted the message in the
instant before the kill) is recognisable.
"""

from __future__ import annotations

import random
import smtplib
import socket
import uuid
from collections.abc import Iterable
from datetime import datetime, timedelta
from email.utils import make_msgid
from typing import Any

from anymail.exceptions import AnymailAPIError, AnymailRecipientsRefused
from celery import current_app
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from ..core.vocab import MessageStatus as Status
from ..core.vocab import TaskName
from ..models import Clinic, Message, MonitoringCheck, Patient, TherapyCourse
from .emails import render_message


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
                "subject": subject[:200],
                "context": context or {},
                "patient": patient,
                "course": course,
                "send_after": send_after or timezone.now(),
                "message_id": make_msgid(domain=_domain()),
            },
        )
        if created and checks:
            message.checks.set(checks)
    return message if created else None


def _domain() -> str:
    return settings.DEFAULT_FROM_EMAIL.rsplit("@", 1)[-1].strip("> ") or "localhost"


def dispatch_after_commit() -> None:
    """Ask a worker to dispatch as soon as the current transaction commits (alerts go at once)."""
    transaction.on_commit(lambda: current_app.send_task(TaskName.DISPATCH_MESSAGES))


def messages_dispatch(*, now: datetime | None = None, limit: int = 1000) -> list[int]:
    """Claim due messages and enqueue one send task each, after commit.

    Rows are claimed with SKIP LOCKED, so several dispatchers never claim the same row, and each
    claim carries a fresh token that only its own send task can use (a redelivered or stale
    task finds the token gone and does nothing). Rows left SENDING past their lease (a worker
    died) are queued again first.
    """
    now = now or timezone.now()
    lease = timedelta(seconds=settings.JAKMONITOR["SEND_LEASE_SECONDS"])
    claim = uuid.uuid4()
    with transaction.atomic():
        Message.objects.filter(status=Status.SENDING, lease_until__lt=now).update(
            status=Status.QUEUED, lease_until=None, claim=None
        )
        ids = list(
            Message.objects.select_for_update(skip_locked=True)
            .filter(status=Status.QUEUED, send_after__lte=now)
            .order_by("send_after", "id")
            .values_list("id", flat=True)[:limit]
        )
        Message.objects.filter(id__in=ids).update(
            status=Status.SENDING, lease_until=now + lease, claim=claim
        )
        transaction.on_commit(
            lambda: [
                current_app.send_task(TaskName.SEND_MESSAGE, args=[i, str(claim)]) for i in ids
            ]
        )
        if len(ids) == limit:  # a full batch: more are due, dispatch again without waiting for beat
            dispatch_after_commit()
    return ids


TRANSIENT = (
    smtplib.SMTPServerDisconnected,
    smtplib.SMTPConnectError,
    ConnectionError,
    socket.timeout,
)


def _is_transient(exc: Exception) -> bool:
    """Worth another try later (connection trouble, SMTP 4xx, provider 429/5xx)?"""
    if isinstance(exc, AnymailRecipientsRefused):
        return False
    if isinstance(exc, AnymailAPIError):
        status = getattr(exc, "status_code", None)
        return status is None or status == 429 or status >= 500
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return all(400 <= code < 500 for code, _ in exc.recipients.values())
    if isinstance(exc, smtplib.SMTPResponseException):
        return 400 <= exc.smtp_code < 500
    return isinstance(exc, TRANSIENT + (OSError,))


def _backoff(attempts: int) -> timedelta:
    """Capped exponential backoff with jitter: 30 s, 1 min, 2 min … at most 1 hour."""
    return timedelta(seconds=min(30 * 2 ** (attempts - 1), 3600) * random.uniform(0.8, 1.2))


def message_send(*, message_id: int, claim: str) -> str:
    """Send one claimed message; returns its status afterwards. Safe to run twice: the claim is
    used up before the SMTP conversation, so only one task ever sends per claim."""
    with transaction.atomic():
        message = Message.objects.select_for_update().filter(pk=message_id).first()
        if message is None:
            return "missing"
        if message.status != Status.SENDING or str(message.claim) != claim:
            return "stale"
        email, reason = render_message(message)
        if email is None:
            message.status, message.last_error = Status.CANCELLED, reason
            message.lease_until = message.claim = None
            message.save(update_fields=["status", "last_error", "lease_until", "claim"])
            return message.status
        message.attempts += 1
        message.claim = None
        message.save(update_fields=["attempts", "claim"])
    try:
        email.send(fail_silently=False)
    except Exception as exc:  # noqa: BLE001 - every failure is recorded on the row
        return _record_failure(message, exc)
    Message.objects.filter(pk=message.pk, status=Status.SENDING).update(
        status=Status.SENT, sent_at=timezone.now(), lease_until=None, last_error=""
    )
    return Status.SENT


def _record_failure(message: Message, exc: Exception) -> str:
    error = f"{type(exc).__name__}: {exc}"[:2000]
    retry = _is_transient(exc) and message.attempts < settings.JAKMONITOR["SEND_MAX_ATTEMPTS"]
    status = Status.QUEUED if retry else Status.FAILED
    fields: dict[str, object] = {"status": status, "last_error": error, "lease_until": None}
    if retry:
        fields["send_after"] = timezone.now() + _backoff(message.attempts)
    Message.objects.filter(pk=message.pk, status=Status.SENDING).update(**fields)
    return status

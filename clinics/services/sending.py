"""Sending: claim due messages, safety first, send each on the process's open connection, mark
it sent the instant the server accepted it, and classify failures (see `outbox` for the design).
"""

from __future__ import annotations

import logging
import random
import smtplib
import socket
import time
import uuid
from datetime import timedelta

from anymail.exceptions import AnymailAPIError, AnymailRecipientsRefused
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from ..core.vocab import MessageKind
from ..core.vocab import MessageStatus as Status
from ..models import Message
from .alerts import safety_undelivered_queue
from .emails import render_message
from .mail_connection import mail_connection, mail_connection_discard, mail_connection_used
from .outbox import dispatch_after_commit, due_messages

log = logging.getLogger(__name__)


def _claim(*, safety_only: bool) -> tuple[uuid.UUID, list[int]]:
    """Claim up to a batch of due rows, safety messages first, under a fresh token."""
    now = timezone.now()
    claim = uuid.uuid4()
    lease = timedelta(seconds=settings.JAKMONITOR["SEND_LEASE_SECONDS"])
    with transaction.atomic():
        due = due_messages(now).filter(safety=True) if safety_only else due_messages(now)
        ids = list(
            due.select_for_update(skip_locked=True)
            .order_by("-safety", "send_after", "id")
            .values_list("id", flat=True)[: settings.JAKMONITOR["SEND_BATCH"]]
        )
        # Conditional on still being due: without row locks (SQLite) a row another sender
        # claimed between the read and this update is left to it.
        due_messages(now).filter(id__in=ids).update(
            status=Status.SENDING, claim=claim, lease_until=now + lease
        )
    return claim, list(
        Message.objects.filter(claim=claim).order_by("-safety", "id").values_list("id", flat=True)
    )


def messages_send_due(*, safety_only: bool = False) -> list[str]:
    """Claim and send due messages batch by batch until none is due or the time budget is spent
    (then a new task carries on, so that other tasks get their turn); returns each outcome."""
    started = time.monotonic()
    outcomes: list[str] = []
    while True:
        claim, ids = _claim(safety_only=safety_only)
        if not ids:
            return outcomes
        outcomes += [message_send(message_id=i, claim=claim) for i in ids]
        if time.monotonic() - started > settings.JAKMONITOR["SEND_BUDGET_SECONDS"]:
            dispatch_after_commit(safety=safety_only)
            return outcomes


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


def _backoff(attempts: int, *, safety: bool) -> timedelta:
    """Capped exponential backoff with jitter: 30 s, 1 min, 2 min … at most 10 minutes for safety
    messages and an hour for the rest."""
    cap = 600 if safety else 3600
    return timedelta(seconds=min(30 * 2 ** (attempts - 1), cap) * random.uniform(0.8, 1.2))


def message_send(*, message_id: int, claim: uuid.UUID | str) -> str:
    """Send one claimed message on the process's open connection; returns its status afterwards.

    Only the holder of the claim sends: the claim is checked, and the lease renewed, in one
    locked read just before the SMTP conversation, and the lease outlasts the longest
    conversation the mail timeout allows (a system check). The row is marked sent right after the
    server's reply to DATA, before anything else is said on the connection."""
    lease = timedelta(seconds=settings.JAKMONITOR["SEND_LEASE_SECONDS"])
    try:
        connection = mail_connection()
    except Exception as exc:  # noqa: BLE001 - cannot reach the server: a failure of this send
        message = Message.objects.filter(pk=message_id, claim=claim).first()
        if message is None:
            return "stale"
        message.attempts += 1
        return _record_failure(message, exc)
    with transaction.atomic():
        message = (
            Message.objects.select_for_update(of=("self",))
            .select_related("clinic", "patient", "course")
            .filter(pk=message_id, status=Status.SENDING, claim=claim)
            .first()
        )
        if message is None:
            return "stale"
        email, reason = render_message(message)
        if email is None:
            message.status, message.last_error = Status.CANCELLED, reason
            message.lease_until = message.claim = None
            message.save(update_fields=["status", "last_error", "lease_until", "claim"])
            return message.status
        message.attempts += 1
        message.lease_until = timezone.now() + lease
        message.save(update_fields=["attempts", "lease_until"])
    try:
        connection.send_messages([email])
    except Exception as exc:  # noqa: BLE001 - every failure is recorded on the row
        mail_connection_discard()
        return _record_failure(message, exc)
    Message.objects.filter(pk=message.pk, claim=claim).update(
        status=Status.SENT,
        sent_at=timezone.now(),
        lease_until=None,
        claim=None,
        last_error="",
        failing_since=None,
    )
    mail_connection_used()
    return Status.SENT


def _record_failure(message: Message, exc: Exception) -> str:
    """Transient failures retry with backoff for the retry period, then fail; permanent ones fail
    at once. A safety message that fails tells the clinic's staff."""
    now = timezone.now()
    error = f"{type(exc).__name__}: {exc}"[:2000]
    since = message.failing_since or now
    period = timedelta(hours=settings.JAKMONITOR["SEND_RETRY_HOURS"])
    retry = _is_transient(exc) and now - since < period
    fields: dict[str, object] = {
        "status": Status.QUEUED if retry else Status.FAILED,
        "attempts": message.attempts,
        "last_error": error,
        "lease_until": None,
        "claim": None,
        "failing_since": since if retry else message.failing_since,
    }
    if retry:
        fields["send_after"] = now + _backoff(message.attempts, safety=message.safety)
    with transaction.atomic():
        changed = Message.objects.filter(pk=message.pk, claim=message.claim).update(**fields)
        message.last_error = error
        if (
            changed
            and not retry
            and message.safety
            and message.kind != MessageKind.SAFETY_UNDELIVERED
        ):
            safety_undelivered_queue(message=message)
    log.warning("message %s not sent (%s): %s", message.pk, fields["status"], type(exc).__name__)
    return str(fields["status"])

"""Sending: claim due messages, safety first, send each on the process's open connection, mark
it sent the instant the server accepted it, and classify failures (see `outbox` for the design).
"""

from __future__ import annotations

import functools
import logging
import random
import smtplib
import socket
import time
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

from anymail.exceptions import AnymailAPIError, AnymailRecipientsRefused
from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import connection, transaction
from django.db.models import F, Field
from django.utils import timezone

from ..core.vocab import MessageKind
from ..core.vocab import MessageStatus as Status
from ..models import LinkToken, Message
from .alerts import safety_undelivered_queue
from .emails import render_message
from .mail_connection import mail_connection, mail_connection_discard, mail_connection_used
from .outbox import dispatch_after_commit, due_messages

log = logging.getLogger(__name__)


def _claim(*, safety_only: bool) -> tuple[uuid.UUID, list[Message]]:
    """Claim up to a batch of due rows under a fresh token and lease; each claim counts as an
    attempt. Returns the claimed rows, ready to render. Safety messages make a batch of their
    own: a batch is rendered before its first message goes, and an alert does not wait for
    fifty reminders to be rendered."""
    now = timezone.now()
    claim = uuid.uuid4()
    lease = timedelta(seconds=settings.JAKMONITOR["SEND_LEASE_SECONDS"])
    limit = settings.JAKMONITOR["SEND_BATCH"]
    with transaction.atomic():
        ids = _claimable_ids(now, safety_only=True, limit=limit)
        if not ids and not safety_only:
            ids = _claimable_ids(now, safety_only=False, limit=limit)
        # Conditional on still being due: without row locks (SQLite) a row another sender
        # claimed between the read and this update is left to it.
        due_messages(now).filter(id__in=ids).update(
            status=Status.SENDING, claim=claim, lease_until=now + lease, attempts=F("attempts") + 1
        )
    return claim, _claimed(claim)


def _claimable_ids(now: datetime, *, safety_only: bool, limit: int) -> list[int]:
    """Rows whose sender died holding them first (their lease ran out), then queued rows in send
    order, safety first, locked and skipping rows other senders hold. Each read walks its own
    partial index in order, so a claim costs the same with ten rows waiting or a million."""
    expired = Message.objects.filter(status=Status.SENDING, lease_until__lt=now)
    queued = Message.objects.filter(status=Status.QUEUED, send_after__lte=now)
    ids: list[int] = []
    for rows, order in ((expired, "lease_until"), (queued, "send_after")):
        if safety_only:
            rows = rows.filter(safety=True)
        ids += (
            rows.select_for_update(skip_locked=True)
            .order_by("-safety", order, "id")
            .values_list("id", flat=True)[: limit - len(ids)]
        )
        if len(ids) == limit:
            break
    return ids


def _claimed(claim: uuid.UUID | str, **filters: object) -> list[Message]:
    return list(
        Message.objects.filter(claim=claim, status=Status.SENDING, **filters)
        .select_related("clinic", "patient", "course")
        .prefetch_related("checks")
        .order_by("-safety", "id")
    )


def messages_send_due(*, safety_only: bool = False) -> list[str]:
    """Claim and send due messages batch by batch until none is due or the time budget is spent
    (then a new task carries on, so that other tasks get their turn); returns each outcome."""
    started = time.monotonic()
    outcomes: list[str] = []
    while True:
        claimed_at = time.monotonic()
        claim, batch = _claim(safety_only=safety_only)
        if not batch:
            return outcomes
        for outcome in _send_batch(batch, claim=claim, claimed_at=claimed_at):
            outcomes.append(outcome)
            if outcome == Status.QUEUED:  # a transient failure: the server is in trouble
                _release(claim)  # the rest of the batch waits for the next wake-up, untried
                return outcomes
        if time.monotonic() - started > settings.JAKMONITOR["SEND_BUDGET_SECONDS"]:
            dispatch_after_commit(safety=safety_only)
            return outcomes


def message_send(*, message_id: int, claim: uuid.UUID | str) -> str:
    """Send one claimed message (what a sender does for each of its batch); returns its status
    afterwards, or "stale" if the claim is no longer this one's."""
    batch = _claimed(claim, pk=message_id)
    if not batch:
        return "stale"
    (outcome,) = _send_batch(batch, claim=claim, claimed_at=None)
    return outcome


def _send_batch(
    batch: list[Message], *, claim: uuid.UUID | str, claimed_at: float | None
) -> Iterator[str]:
    """Render the batch (its links stored in one go), then send each message on the process's
    open connection, yielding each outcome as it happens.

    Only the holder of the claim sends. Early in the lease no one else can have taken the
    message over, since the lease outlasts the longest conversation the mail timeout allows (a
    system check); later, the claim is checked and the lease renewed first, in one update, once
    the connection is ready, so that only the message's own commands remain. The row is marked
    sent right after the server's reply to DATA, before anything else is said on the connection.
    A message that cannot be rendered fails on its own (staff see why) and holds up no other."""
    links: list[LinkToken] = []
    rendered = [_render(message, links) for message in batch]
    LinkToken.objects.bulk_create(links)  # stored before any email that carries them leaves
    lease = settings.JAKMONITOR["SEND_LEASE_SECONDS"]
    trusted_for = lease - 5 * settings.EMAIL_TIMEOUT - _CLOCK_MARGIN_SECONDS
    for message, (email, reason) in zip(batch, rendered, strict=True):
        if isinstance(reason, Exception):
            yield _record_failure(message, reason)
            continue
        if email is None:
            yield _cancel(message, claim=claim, reason=reason)
            continue
        try:
            connection = mail_connection()
        except Exception as exc:  # noqa: BLE001 - the server cannot be reached: this send fails
            mail_connection_discard()
            yield _record_failure(message, exc)
            continue
        if claimed_at is None or time.monotonic() - claimed_at > trusted_for:
            renewed = Message.objects.filter(pk=message.pk, claim=claim, status=Status.SENDING)
            if not renewed.update(lease_until=timezone.now() + timedelta(seconds=lease)):
                yield "stale"
                continue
        try:
            connection.send_messages([email])
        except Exception as exc:  # noqa: BLE001 - every failure is recorded on the row
            mail_connection_discard()
            yield _record_failure(message, exc)
            continue
        _mark_sent(message, claim=claim)
        mail_connection_used()
        yield Status.SENT


def _mark_sent(message: Message, *, claim: uuid.UUID | str) -> None:
    """The one write per message between the server's reply and the next message, as a fixed
    statement: building it with the ORM took four times the CPU of running it."""
    field = _message_fields()
    with connection.cursor() as cursor:
        cursor.execute(
            _mark_sent_sql(),
            [
                Status.SENT.value,
                field["sent_at"].get_db_prep_value(timezone.now(), connection),
                message.pk,
                field["claim"].get_db_prep_value(claim, connection),
            ],
        )


@functools.cache
def _message_fields() -> dict[str, Field[Any, Any]]:
    return {f.name: f for f in Message._meta.concrete_fields}


@functools.cache
def _mark_sent_sql() -> str:
    q = connection.ops.quote_name
    column = {name: q(f.column) for name, f in _message_fields().items()}
    cleared = ", ".join(
        f"{column[name]} = NULL" for name in ("lease_until", "claim", "failing_since")
    )
    return (
        f"UPDATE {q(Message._meta.db_table)} SET {column['status']} = %s, "
        f"{column['sent_at']} = %s, {cleared}, {column['last_error']} = '' "
        f"WHERE {column['id']} = %s AND {column['claim']} = %s"
    )


def _render(
    message: Message, links: list[LinkToken]
) -> tuple[EmailMultiAlternatives | None, str | Exception]:
    try:
        return render_message(message, links=links)
    except Exception as exc:  # noqa: BLE001 - a template or data fault: this message fails
        log.exception("message %s cannot be rendered", message.pk)
        return None, exc


# Seconds allowed for the clocks of two workers to disagree about when a lease runs out.
_CLOCK_MARGIN_SECONDS = 2


def _cancel(message: Message, *, claim: uuid.UUID | str, reason: str) -> str:
    """It should no longer go out (the check was done, the course paused, consent withdrawn)."""
    Message.objects.filter(pk=message.pk, claim=claim).update(
        status=Status.CANCELLED,
        last_error=reason,
        lease_until=None,
        claim=None,
        attempts=F("attempts") - 1,
    )
    return Status.CANCELLED


def _release(claim: uuid.UUID) -> None:
    """Give back the rows of a batch not tried yet: queued again, as they were."""
    Message.objects.filter(claim=claim, status=Status.SENDING).update(
        status=Status.QUEUED, claim=None, lease_until=None, attempts=F("attempts") - 1
    )


TRANSIENT = (
    smtplib.SMTPServerDisconnected,
    smtplib.SMTPConnectError,
    ConnectionError,
    socket.timeout,
)


def _is_transient(exc: Exception) -> bool:
    """Worth another try later (connection trouble, SMTP 4xx, provider 429/5xx, and credentials
    the server refused: an operator fixes them, and every message would otherwise fail)?"""
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return True
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

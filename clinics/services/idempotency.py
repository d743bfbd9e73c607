"""Idempotency keys for API POSTs: a client that retries (a timeout, a broker outage answered
late) sends the same `Idempotency-Key` and gets the first answer again, so the write happens
once. Keys are per user and kept for `IDEMPOTENCY_HOURS`."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from ..core.vocab import LifecycleConflict
from ..models import IdempotentRequest

HEADER = "Idempotency-Key"
_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")  # visible ASCII, as the IETF draft's examples


@dataclass(frozen=True)
class Replay:
    """The answer the first request with this key got."""

    status_code: int
    response: Any


def _fingerprint(*, method: str, path: str, body: bytes) -> str:
    return hashlib.sha256(b"\n".join([method.encode(), path.encode(), body])).hexdigest()


def idempotent_request_begin(
    *, user: User, key: str, method: str, path: str, body: bytes
) -> IdempotentRequest | Replay:
    """Within the transaction that does the work: the stored answer for this key, or a new
    record to finish. Raises ValidationError naming the header for a malformed key or a key
    reused for another request, and LifecycleConflict while the first is still running."""
    if not _KEY.match(key):
        raise ValidationError({HEADER: "Use 1 to 255 visible ASCII characters (a UUID, say)."})
    fingerprint = _fingerprint(method=method, path=path, body=body)
    kept_since = timezone.now() - timedelta(hours=settings.JAKMONITOR["IDEMPOTENCY_HOURS"])
    IdempotentRequest.objects.filter(user=user, key=key, created_at__lt=kept_since).delete()
    try:
        with transaction.atomic():
            record, created = IdempotentRequest.objects.get_or_create(
                user=user, key=key, defaults={"fingerprint": fingerprint}
            )
    except IntegrityError:  # the same key, sent again while the first was being answered
        raise LifecycleConflict(
            {HEADER: "A request with this key is still being answered; retry in a moment."}
        ) from None
    if record.fingerprint != fingerprint:
        raise ValidationError({HEADER: "This key was already used for a different request."})
    if created:
        return record
    if record.status_code is None:
        raise LifecycleConflict(
            {HEADER: "A request with this key is still being answered; retry in a moment."}
        )
    return Replay(status_code=record.status_code, response=record.response)


def idempotent_request_finish(
    *, record: IdempotentRequest, status_code: int, response: Any
) -> None:
    """Keep the answer (in the same transaction as the work it answers)."""
    record.status_code, record.response = status_code, response
    record.save(update_fields=["status_code", "response"])


def idempotency_keys_forget() -> int:
    """Delete keys older than the keeping period; returns how many."""
    kept_since = timezone.now() - timedelta(hours=settings.JAKMONITOR["IDEMPOTENCY_HOURS"])
    deleted, _ = IdempotentRequest.objects.filter(created_at__lt=kept_since).delete()
    return deleted

"""Secret links in emails: only a hash is stored; a link works until it expires (deleting its row
revokes it)."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.utils import timezone

from ..models import LinkToken, Patient, TherapyCourse

LINK_LIFETIME = timedelta(days=90)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def link_issue(
    *,
    purpose: str,
    patient: Patient,
    course: TherapyCourse | None = None,
    into: list[LinkToken] | None = None,
) -> str:
    """A new secret (256 random bits) for one purpose; returns the raw token for the email. The
    link is stored at once, or appended to `into` for the caller to store with others."""
    token = secrets.token_urlsafe(32)
    link = LinkToken(
        digest=_digest(token),
        purpose=purpose,
        patient=patient,
        course=course,
        expires_at=timezone.now() + LINK_LIFETIME,
    )
    if into is None:
        link.save()
    else:
        into.append(link)
    return token


def link_find(*, token: str, purpose: str) -> LinkToken | None:
    """The live link for this token and purpose, or None (unknown, expired or revoked)."""
    if not token or len(token) > 100:
        return None
    return (
        LinkToken.objects.select_related("patient__clinic", "course__drug")
        .filter(digest=_digest(token), purpose=purpose, expires_at__gt=timezone.now())
        .first()
    )

"""How the outbox explains itself to staff."""

from __future__ import annotations

from django.utils import timezone

from ..models import Message


def failure_reason(message: Message) -> str:
    """Why a failed message did not go out, in staff's words, with the server's answer."""
    if message.failing_since is not None:
        hours = (timezone.now() - message.failing_since).total_seconds() / 3600
        how = f"Kept failing for {hours:.0f} h ({message.attempts} tries), then given up"
    else:
        how = "Refused by the mail server (an address or content it will not accept)"
    return f"{how}: {message.last_error}" if message.last_error else how

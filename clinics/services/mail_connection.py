"""One open mail connection per worker process, reused from message to message.

A message is sent on a connection that is already open, so `send_messages` returns as soon as the
server has answered the end of DATA, with no QUIT round trip before the row is marked sent, and no
new TCP (and TLS, AUTH) handshake per message. A connection left idle longer than servers
usually keep one open is replaced, one idle for a moment is asked whether it is still there, and
one that failed is dropped unread.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.mail import get_connection
from django.core.mail.backends.base import BaseEmailBackend


@dataclass
class _Held:
    backend: BaseEmailBackend | None = None
    settings_key: tuple[Any, ...] = ()
    used_at: float = 0.0


_held = _Held()


def _settings_key() -> tuple[Any, ...]:
    """Tests and operators change mail settings at run time: a changed server is a new
    connection."""
    return tuple(
        getattr(settings, name, None)
        for name in (
            "EMAIL_BACKEND",
            "EMAIL_HOST",
            "EMAIL_PORT",
            "EMAIL_HOST_USER",
            "EMAIL_USE_TLS",
            "EMAIL_USE_SSL",
            "EMAIL_TIMEOUT",
        )
    )


def mail_connection() -> BaseEmailBackend:
    """The process's open connection, opened (or replaced) if needed; raises if it cannot be."""
    key = _settings_key()
    idle = time.monotonic() - _held.used_at
    if _held.backend is not None and (
        key != _held.settings_key or idle > settings.JAKMONITOR["SMTP_IDLE_SECONDS"]
    ):
        mail_connection_close()
    elif _held.backend is not None and idle > _CHECK_AFTER_SECONDS and not _alive(_held.backend):
        mail_connection_discard()
    if _held.backend is None:
        _held.backend, _held.settings_key = get_connection(fail_silently=False), key
    _held.backend.open()
    return _held.backend


# Back to back (a batch) a connection is trusted; after a pause it is asked first (NOOP, one
# round trip), since a server may have closed it: a message is never begun on a dead one.
_CHECK_AFTER_SECONDS = 1.0


def _alive(backend: BaseEmailBackend) -> bool:
    smtp = getattr(backend, "connection", None)
    if smtp is None:  # not SMTP (an email API's backend, files): nothing to ask
        return True
    try:
        return bool(smtp.noop()[0] == 250)
    except Exception:  # noqa: BLE001 - any failure means a new connection
        return False


def mail_connection_used() -> None:
    """A message went through: the connection is known to be alive now."""
    _held.used_at = time.monotonic()


def mail_connection_close() -> None:
    """Say goodbye (QUIT) and forget the connection; errors while closing do not matter."""
    backend, _held.backend = _held.backend, None
    if backend is not None:
        try:
            backend.close()
        except Exception:  # noqa: BLE001, S110 - a connection being thrown away
            pass


def mail_connection_discard() -> None:
    """After a failed send the conversation is in an unknown state: drop the socket, no QUIT."""
    backend, _held.backend = _held.backend, None
    smtp = getattr(backend, "connection", None)
    if smtp is not None:
        try:
            smtp.close()
        finally:
            backend.connection = None  # type: ignore[union-attr]

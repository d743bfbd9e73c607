"""Absolute addresses for links that leave the service (emails, calendar feeds): the public base
address (`JAKMONITOR_BASE_URL`) and a route."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.urls import reverse


def public_url(name: str, *args: Any) -> str:
    """The absolute URL of route `name` with `args`."""
    base: str = settings.JAKMONITOR["BASE_URL"]
    return base.rstrip("/") + reverse(name, args=args)

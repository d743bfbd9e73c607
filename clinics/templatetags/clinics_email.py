"""Filters for the emails."""

import functools
from datetime import date

from django import template
from django.utils.formats import date_format
from django.utils.translation import get_language

register = template.Library()


@register.filter
def long_date(value: date | str | None) -> str:
    """'Monday 9 November 2026' in the active language (from a date, or an ISO date as a
    message's stored context keeps it). A batch of reminders names the same few dates over and
    over, so each is formatted once per language."""
    if isinstance(value, str):
        value = date.fromisoformat(value)
    return "" if value is None else _long_date(value, get_language())


@functools.lru_cache(maxsize=4096)
def _long_date(value: date, language: str | None) -> str:
    return date_format(value, "l j F Y")

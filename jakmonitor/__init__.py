"""jakmonitor: monitoring schedules and reminders for patients taking a JAK inhibitor."""

from .celery import app as celery_app

__all__ = ("celery_app",)

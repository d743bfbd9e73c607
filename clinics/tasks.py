"""Celery tasks: thin callers of the services, idempotent, safe to run twice."""

from celery import shared_task

from .services.courses import courses_activate_due
from .services.plans import plans_roll_forward


@shared_task(acks_late=True, reject_on_worker_lost=True)
def activate_started_courses() -> int:
    """Planned courses whose start date has come become active."""
    return courses_activate_due()


@shared_task(acks_late=True, reject_on_worker_lost=True)
def roll_plans_forward() -> int:
    """Extend every open course's plan as the rolling horizon moves on."""
    return plans_roll_forward()

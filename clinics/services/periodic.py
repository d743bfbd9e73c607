"""The default periodic schedule, installed once into django-celery-beat's tables; staff change
it in the admin (Periodic tasks) and later installs never overwrite their changes."""

from django.db import transaction
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from ..core.vocab import TaskName

# (name, task, every N seconds). The dispatch tick is also how a lost wake-up is made good: with
# the send lease it bounds how long a message can wait after a broker or worker failure.
DEFAULTS = [
    ("Dispatch queued messages", TaskName.DISPATCH_MESSAGES, 15),
    ("Queue patient reminders", TaskName.QUEUE_REMINDERS, 15 * 60),
    ("Mark overdue checks and send staff digests", TaskName.MARK_OVERDUE_AND_DIGEST, 3600),
    ("Activate courses that have started", TaskName.ACTIVATE_STARTED_COURSES, 3600),
    ("Roll plans forward", TaskName.ROLL_PLANS_FORWARD, 6 * 3600),
    ("Forget old API idempotency keys", TaskName.FORGET_IDEMPOTENCY_KEYS, 24 * 3600),
]
# Earlier defaults that an install moves to today's when staff have not changed them.
_OLD_DEFAULTS = {TaskName.DISPATCH_MESSAGES: (1, IntervalSchedule.MINUTES)}


@transaction.atomic
def periodic_tasks_install() -> list[str]:
    """Create the default periodic tasks that do not exist yet; returns the names created."""
    created = []
    for name, task, seconds in DEFAULTS:
        every, _ = IntervalSchedule.objects.get_or_create(
            every=seconds, period=IntervalSchedule.SECONDS
        )
        existing = PeriodicTask.objects.filter(task=task).select_related("interval").first()
        if existing is None:
            PeriodicTask.objects.create(name=name, task=task, interval=every)
            created.append(name)
        elif existing.interval and (existing.interval.every, existing.interval.period) == (
            _OLD_DEFAULTS.get(task)
        ):
            existing.interval = every
            existing.save(update_fields=["interval"])
    return created

"""The default periodic schedule, installed once into django-celery-beat's tables; staff change
it in the admin (Periodic tasks) and later installs never overwrite their changes."""

from django.db import transaction
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from ..core.vocab import TaskName

# (name, task, every N minutes)
DEFAULTS = [
    ("Dispatch queued messages", TaskName.DISPATCH_MESSAGES, 1),
    ("Queue patient reminders", TaskName.QUEUE_REMINDERS, 15),
    ("Mark overdue checks and send staff digests", TaskName.MARK_OVERDUE_AND_DIGEST, 60),
    ("Activate courses that have started", TaskName.ACTIVATE_STARTED_COURSES, 60),
    ("Roll plans forward", TaskName.ROLL_PLANS_FORWARD, 360),
]


@transaction.atomic
def periodic_tasks_install() -> list[str]:
    """Create the default periodic tasks that do not exist yet; returns the names created."""
    created = []
    for name, task, minutes in DEFAULTS:
        if PeriodicTask.objects.filter(task=task).exists():
            continue
        every, _ = IntervalSchedule.objects.get_or_create(
            every=minutes, period=IntervalSchedule.MINUTES
        )
        PeriodicTask.objects.create(name=name, task=task, interval=every)
        created.append(name)
    return created

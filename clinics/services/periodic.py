"""The default periodic schedule, installed once into django-celery-beat's tables; staff change
it in the admin (Periodic tasks) and later installs never overwrite their changes."""

from django.db import transaction
from django_celery_beat.models import IntervalSchedule, PeriodicTask

# (name, task, every N minutes)
DEFAULTS = [
    ("Dispatch queued messages", "clinics.tasks.dispatch_messages", 1),
    ("Queue patient reminders", "clinics.tasks.queue_reminders", 15),
    ("Mark overdue checks and send staff digests", "clinics.tasks.mark_overdue_and_digest", 60),
    ("Activate courses that have started", "clinics.tasks.activate_started_courses", 60),
    ("Roll plans forward", "clinics.tasks.roll_plans_forward", 360),
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

"""Install the default periodic tasks (django-celery-beat) that are not there yet."""

from typing import Any

from django.core.management.base import BaseCommand

from clinics.services.periodic import periodic_tasks_install


class Command(BaseCommand):
    help = "Create the default periodic tasks; existing ones (and staff changes) are kept."

    def handle(self, *args: Any, **options: Any) -> None:
        created = periodic_tasks_install()
        self.stdout.write(f"periodic tasks created: {len(created)}")

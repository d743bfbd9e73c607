"""Create the demo clinic with sample patients and print a staff login."""

from django.core.management.base import BaseCommand

from clinics.models import Clinic
from clinics.services.demo import demo_setup


class Command(BaseCommand):
    help = "Create the demo clinic (once) and print a fresh staff login for it."

    def add_arguments(self, parser):
        parser.add_argument("--url", default="http://127.0.0.1:8000/admin/")

    def handle(self, *args, **options):
        login = demo_setup(today=Clinic(time_zone="Europe/London").today())
        self.stdout.write(self.style.SUCCESS(
            f"\nDemo clinic: {login.clinic.name} ({login.patients} sample patients)\n"
            f"Staff login: {options['url']}\n  username: {login.username}\n  password: {login.password}\n"
        ))  # fmt: skip

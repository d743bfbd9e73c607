"""Create the demo clinic with sample patients and print a staff login and calendar feeds."""

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from clinics.core.dates import today_in
from clinics.demo import DEMO_ZONE, demo_setup
from clinics.feeds.tokens import feed_urls


class Command(BaseCommand):
    help = "Create the demo clinic (once) and print a fresh staff login for it."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--url", default="http://127.0.0.1:8000/admin/")

    def handle(self, *args: Any, **options: Any) -> None:
        login = demo_setup(today=today_in(DEMO_ZONE))
        staff, patient = feed_urls(login.staff_feed), feed_urls(login.patient_feed)
        sample = login.patient_feed.patient
        assert sample is not None  # demo_setup issues that feed for a sample patient
        self.stdout.write(
            self.style.SUCCESS(
                f"\nDemo clinic: {login.clinic.name} ({login.patients} sample patients)\n"
                f"Staff login: {options['url']}\n  username: {login.username}\n  password: {login.password}\n"
                f"Calendar feeds (subscribe in a calendar app, or open in a browser):\n"
                f"  staff ({login.username}): {staff.web}\n"
                f"  patient {sample.mrn}: {patient.web}\n"
                f"  webcal:// links open a calendar app's subscribe dialog: {patient.webcal}\n"
            )
        )

"""Create the demo clinic with sample patients and print a staff login and calendar feeds."""

from django.core.management.base import BaseCommand

from clinics.core.dates import today_in
from clinics.demo import DEMO_ZONE, demo_setup
from clinics.feeds.tokens import feed_urls


class Command(BaseCommand):
    help = "Create the demo clinic (once) and print a fresh staff login for it."

    def add_arguments(self, parser):
        parser.add_argument("--url", default="http://127.0.0.1:8000/admin/")

    def handle(self, *args, **options):
        login = demo_setup(today=today_in(DEMO_ZONE))
        staff, patient = feed_urls(login.staff_feed), feed_urls(login.patient_feed)
        self.stdout.write(
            self.style.SUCCESS(
                f"\nDemo clinic: {login.clinic.name} ({login.patients} sample patients)\n"
                f"Staff login: {options['url']}\n  username: {login.username}\n  password: {login.password}\n"
                f"Calendar feeds (subscribe in a calendar app, or open in a browser):\n"
                f"  staff ({login.username}): {staff.web}\n"
                f"  patient {login.patient_feed.patient.mrn}: {patient.web}\n"
                f"  webcal:// links open a calendar app's subscribe dialog: {patient.webcal}\n"
            )
        )

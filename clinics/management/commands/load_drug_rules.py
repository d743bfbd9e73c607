"""Load (or re-load) the drug rule files and protocols from seeds/. Idempotent."""

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from clinics.core.ruleset import RuleFileError
from clinics.services.seeds import rules_load


class Command(BaseCommand):
    help = "Validate and load seeds/ as versioned rules; re-plan open checks of affected courses."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--seeds", help="Rule directory (default: settings JAKMONITOR SEED_DIR)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            report = rules_load(seed_dir=Path(options["seeds"]) if options["seeds"] else None)
        except RuleFileError as exc:
            raise CommandError(f"nothing loaded: {exc}") from None
        for line in report.new_versions:
            self.stdout.write(f"loaded {line}")
        if report.unchanged:
            self.stdout.write(f"unchanged: {len(report.unchanged)} file(s)")
        self.stdout.write(f"courses re-planned: {report.courses_replanned}")

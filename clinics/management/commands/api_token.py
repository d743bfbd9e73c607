"""Issue or revoke API tokens for a staff login (django-rest-knox: only a hash is stored)."""

from datetime import timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from knox.models import AuthToken


class Command(BaseCommand):
    help = "Print a new API token for a staff login (shown once), or revoke all of its tokens."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--days", type=int, default=90, help="Valid for this many days")
        parser.add_argument("--revoke", action="store_true", help="Revoke every token of the login")

    def handle(self, *args: Any, username: str, days: int, revoke: bool, **options: Any) -> None:
        user = get_user_model().objects.filter(username=username, is_active=True).first()
        if user is None or not user.is_staff:
            raise CommandError(f"username: no active staff login {username!r}")
        if revoke:
            count, _ = AuthToken.objects.filter(user=user).delete()
            self.stdout.write(f"Revoked {count} token(s) of {username}.")
            return
        if not 1 <= days <= 366:
            raise CommandError("--days: give 1 to 366")
        _, token = AuthToken.objects.create(user=user, expiry=timedelta(days=days))
        self.stdout.write(token)

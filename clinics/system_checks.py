"""Deployment checks (`manage.py check --deploy`) for settings the secret links depend on."""

from django.conf import settings
from django.core import checks


@checks.register(checks.Tags.security, deploy=True)
def base_url_uses_https(app_configs: object, **kwargs: object) -> list[checks.CheckMessage]:
    """Feed and email links carry secrets: over plain HTTP anyone on the path can read them
    (and some calendar apps fetch webcal:// links with the scheme of the public address)."""
    if settings.JAKMONITOR["BASE_URL"].startswith("https://"):
        return []
    return [
        checks.Warning(
            "JAKMONITOR_BASE_URL is not https://: calendar feed and email links would carry "
            "their secret tokens unencrypted.",
            hint="Set JAKMONITOR_BASE_URL=https://your.host behind a TLS proxy.",
            id="clinics.W001",
        )
    ]

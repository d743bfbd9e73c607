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


# An open connection sends a message in five SMTP commands (MAIL, RCPT, DATA, the data, and RSET
# after a refusal), each waiting at most EMAIL_TIMEOUT.
_COMMANDS_PER_SEND = 5


@checks.register()
def send_lease_outlasts_a_send(app_configs: object, **kwargs: object) -> list[checks.CheckMessage]:
    """A sender's claim on a message may be taken over once its lease has run out: if one send
    could outlast the lease, two senders could send the same message at once."""
    longest = _COMMANDS_PER_SEND * settings.EMAIL_TIMEOUT
    if settings.JAKMONITOR["SEND_LEASE_SECONDS"] > longest:
        return []
    return [
        checks.Error(
            f"JAKMONITOR_SEND_LEASE_SECONDS must be longer than {longest:g} s "
            f"({_COMMANDS_PER_SEND} SMTP commands of EMAIL_TIMEOUT each).",
            hint="Raise the lease or lower EMAIL_TIMEOUT.",
            id="clinics.E001",
        )
    ]

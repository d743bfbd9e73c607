"""Rendering an outbox row into an email (multipart text + HTML from templates), or saying why it
should no longer go out (the check was done, the course is paused, consent withdrawn)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import get_template, render_to_string
from django.urls import get_resolver

from ..core.vocab import TO_DO_CHECKS, CourseStatus, LinkPurpose
from ..core.vocab import MessageKind as Kind
from ..feeds.tokens import feed_urls
from ..models import CalendarFeed, LinkToken, Message
from ..public_urls import public_url
from ..selectors.reminders import checks_to_attend
from .link_tokens import link_issue
from .text import one_line

# Subscription-like mail: one-click unsubscribe (RFC 8058); alerts are transactional.
SUBSCRIPTION_KINDS = {Kind.REMINDER, Kind.NEW_DATES, Kind.COURSE_STOPPED}
STAFF_KINDS = {
    Kind.PAUSE_ALERT_STAFF,
    Kind.RESULT_ALERT_STAFF,
    Kind.FINDING_ESCALATION,
    Kind.OVERDUE_DIGEST,
    Kind.SAFETY_UNDELIVERED,
}
# Sent to a patient's address whatever their reminder consent: safety news, links they asked for.
PATIENT_SERVICE_KINDS = {Kind.PAUSE_ALERT_PATIENT, Kind.CALENDAR_LINK}


def _suppressed(message: Message) -> str:
    """Why this message should not go out any more ('' if it should)."""
    patient, course = message.patient, message.course
    if message.kind in SUBSCRIPTION_KINDS:
        if not (patient and patient.reminder_consent and patient.email):
            return "patient has not consented to email reminders"
        if message.kind == Kind.COURSE_STOPPED:
            if course is None or course.status != CourseStatus.STOPPED:
                return "course is no longer stopped"
        elif course is None or course.status != CourseStatus.ACTIVE:
            return "course is not active (paused or stopped)"
    if message.kind == Kind.REMINDER:
        due = message.context.get("due_date")
        if not any(
            c.status in TO_DO_CHECKS and c.due_date.isoformat() == due for c in message.checks.all()
        ):
            return "no open check is due on that date any more"
    if message.kind in PATIENT_SERVICE_KINDS and not (patient and patient.email):
        return "patient has no email address"
    if message.kind == Kind.CALENDAR_LINK and _live_feed(message) is None:
        return "the calendar link was replaced or revoked"
    return ""


def _live_feed(message: Message) -> CalendarFeed | None:
    return CalendarFeed.objects.filter(
        pk=message.context.get("feed"), patient=message.patient, revoked_at__isnull=True
    ).first()


def render_message(
    message: Message, *, links: list[LinkToken] | None = None
) -> tuple[EmailMultiAlternatives | None, str]:
    """The email for an outbox row, or None and why it should not go out. Its secret links are
    stored at once, or added to `links` for the caller to store (a batch, in one insert)."""
    reason = _suppressed(message)
    if reason:
        return None, reason
    clinic, patient, course = message.clinic, message.patient, message.course
    context: dict[str, Any] = {
        "message": message,
        "clinic": clinic,
        "patient": patient,
        "course": course,
        "checks": sorted(message.checks.all(), key=lambda c: (c.due_date, c.kind)),
        "data": message.context,
    }
    headers = {"Message-ID": message.message_id}
    if patient is not None and message.kind not in STAFF_KINDS and course is not None:
        context["report_url"] = public_url(
            "link-report-infection",
            link_issue(
                purpose=LinkPurpose.REPORT_INFECTION, patient=patient, course=course, into=links
            ),
        )
    if message.kind in SUBSCRIPTION_KINDS:
        assert patient is not None  # a reminder that reached here has a consenting patient
        unsubscribe = public_url(
            "link-unsubscribe",
            link_issue(purpose=LinkPurpose.UNSUBSCRIBE, patient=patient, into=links),
        )
        context["unsubscribe_url"] = unsubscribe
        headers["List-Unsubscribe"] = f"<{unsubscribe}>"
        headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    if message.kind == Kind.CALENDAR_LINK:
        feed = _live_feed(message)
        if feed is None:  # revoked since the check above
            return None, "the calendar link was replaced or revoked"
        context["feed"] = feed_urls(feed)
    if message.kind == Kind.NEW_DATES and course is not None:
        context["checks"] = checks_to_attend(course=course, today=clinic.today())
        context["today"] = clinic.today()
    template = f"clinics/email/{message.kind}"
    sender = settings.JAKMONITOR[
        "REMINDER_FROM"
        if message.kind in {*SUBSCRIPTION_KINDS, Kind.CALENDAR_LINK}
        else "ALERT_FROM"
    ]
    email = EmailMultiAlternatives(
        subject=one_line(message.subject),  # rows queued before subjects were cleaned
        body=render_to_string(f"{template}.txt", context),
        from_email=sender,
        to=[message.recipient],
        reply_to=[clinic.contact_email] if clinic.contact_email else None,
        headers=headers,
    )
    email.attach_alternative(render_to_string(f"{template}.html", context), "text/html")
    return email, ""


def emails_prepare() -> None:
    """Load once per process what every email needs, the URL map (half a second on first use)
    and the templates, so that a worker's first alert does not wait for them."""
    get_resolver().reverse_dict  # noqa: B018 - reading it builds the map
    for kind in Kind:
        get_template(f"clinics/email/{kind}.txt")
        get_template(f"clinics/email/{kind}.html")

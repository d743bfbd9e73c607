"""Patient reminders: queue the ones whose moment has come, or one now at staff's request. Each
is an outbox row with a dedupe key, so running this twice sends nothing twice."""

from __future__ import annotations

import uuid
from datetime import datetime

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from ..core.vocab import TO_DO_CHECKS, CourseStatus, MessageKind, MessageStatus, conflict
from ..models import Message, MonitoringCheck, TherapyCourse
from ..selectors.reminders import reminders_due
from .outbox import dispatch_after_commit, message_queue


def _subject(checks: list[MonitoringCheck], lead: int, due_date: str) -> str:
    plural = "s" if len(checks) > 1 else ""
    if lead < 0:
        return f"Reminder: monitoring check{plural} due since {due_date}"
    when = "today" if lead == 0 else "tomorrow" if lead == 1 else f"on {due_date}"
    return f"Reminder: monitoring check{plural} due {when}"


def reminders_queue_due(*, now: datetime | None = None) -> int:
    """Queue one email per patient, due date and lead for all the checks due that day."""
    queued = 0
    for (_, due_date, lead), checks in reminders_due(now=now or timezone.now()).items():
        course, patient = checks[0].course, checks[0].course.patient
        queued += bool(
            message_queue(
                clinic=patient.clinic,
                recipient=patient.email,
                kind=MessageKind.REMINDER,
                subject=_subject(checks, lead, due_date),
                dedupe_key=f"reminder/{patient.uuid}/{due_date}/{lead}d",
                context={"due_date": due_date, "lead_days": lead},
                patient=patient,
                course=course,
                checks=checks,
            )
        )
    return queued


def reminder_resend(*, check: MonitoringCheck, requested_by: User | None = None) -> Message:
    """Send the patient a reminder for an open check now (staff asked: a missed reminder, a
    corrected address, an overdue check), with the other open checks of the course due that day.

    Refused, naming the field, when no reminder could go out: the course is not active, the
    check is not open, the patient has no address or no consent, or one is already waiting.
    Side effects: one REMINDER message queued and dispatched after commit.
    """
    with transaction.atomic():
        TherapyCourse.objects.select_for_update().filter(pk=check.course_id).first()
        check = MonitoringCheck.objects.select_related("course__patient__clinic").get(pk=check.pk)
        course, patient = check.course, check.course.patient
        if course.status != CourseStatus.ACTIVE:
            raise conflict("status", "Reminders go out only while the course is active.")
        if check.status not in TO_DO_CHECKS:
            raise conflict("status", f"The check is {check.get_status_display().lower()}.")
        if not patient.email:
            raise ValidationError({"email": "The patient has no email address: add one first."})
        if not patient.reminder_consent:
            raise ValidationError(
                {"reminder_consent": "The patient has not agreed to email reminders."}
            )
        waiting = (MessageStatus.QUEUED, MessageStatus.SENDING)
        if check.messages.filter(kind=MessageKind.REMINDER, status__in=waiting).exists():
            raise conflict("check", "A reminder for this check is already waiting to be sent.")
        message = _queue_now(
            check,
            key=f"resend/{uuid.uuid4()}",
            requested_by=getattr(requested_by, "pk", None),
        )
    return message


def reminder_for_repeat(*, check: MonitoringCheck) -> Message | None:
    """Tell the patient at once that a repeat test is due (it is due today: the usual reminder
    days before it have passed). None when the patient has no address or no consent."""
    patient = check.course.patient
    if not (patient.email and patient.reminder_consent):
        return None
    return _queue_now(check, key=f"repeat/{check.uuid}")


def _queue_now(check: MonitoringCheck, *, key: str, **context: object) -> Message:
    """A reminder for an open check and the course's other checks due that day, sent after
    commit."""
    course, patient = check.course, check.course.patient
    checks = list(course.checks.filter(status__in=TO_DO_CHECKS, due_date=check.due_date))
    due_date, lead = check.due_date.isoformat(), (check.due_date - patient.clinic.today()).days
    message = message_queue(
        clinic=patient.clinic,
        recipient=patient.email,
        kind=MessageKind.REMINDER,
        subject=_subject(checks, lead, due_date),
        dedupe_key=f"reminder/{patient.uuid}/{due_date}/{key}",
        context={"due_date": due_date, "lead_days": lead, **context},
        patient=patient,
        course=course,
        checks=checks,
    )
    assert message is not None  # every key is new
    dispatch_after_commit()
    return message

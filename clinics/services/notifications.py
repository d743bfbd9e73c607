"""What to tell whom, and when: patient reminders, pause and result alerts, new dates after a
resume, overdue marking and the staff digest. Each writes outbox rows (`outbox.message_queue`)
with a dedupe key, so running any of these twice sends nothing twice."""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from simple_history.utils import bulk_update_with_history

from ..lifecycle import CheckStatus, CourseStatus, LifecycleConflict, ensure_check_transition
from ..models import (
    Clinic,
    CoursePause,
    InfectionReport,
    LabResult,
    Message,
    MonitoringCheck,
    Patient,
    TherapyCourse,
)
from ..ruleset import InfectionRule
from ..selectors import courses_without_next_check, overdue_checks
from .outbox import dispatch_after_commit, message_queue

Kind = Message.Kind
DIGEST_ROWS = 200  # a digest lists at most this many rows per section (the admin has them all)
QUIET_FROM_HOUR = 21  # no reminder is queued from 21:00 local time; a missed one is not sent late


def _zone(patient: Patient) -> ZoneInfo:
    return ZoneInfo(patient.time_zone or patient.clinic.time_zone)


def _admin_url(course: TherapyCourse) -> str:
    path = reverse("admin:clinics_therapycourse_change", args=[course.pk])
    return settings.JAKMONITOR["BASE_URL"].rstrip("/") + path


def _staff(clinic: Clinic) -> list[tuple[int, str]]:
    return list(
        clinic.memberships.filter(user__is_active=True)
        .exclude(user__email="")
        .values_list("user_id", "user__email")
        .order_by("user_id")
    )


def _who(course: TherapyCourse) -> dict:
    """How staff mail names a patient: MRN and initials, never the full name."""
    return {
        "mrn": course.patient.mrn,
        "initials": course.patient.initials,
        "drug": course.drug.name,
    }


def reminders_due(*, now: datetime) -> dict[tuple[int, str, int], list[MonitoringCheck]]:
    """The reminders whose moment has come, grouped by (patient, due date, lead days).

    A reminder is due lead days before its check's due date, from the clinic's reminder hour in
    the patient's own time zone (so DST changes move nothing). The scan reads only checks due
    within a day of `today + lead` (an index on status and due date), so its cost follows what
    is due, not how many checks exist.
    """
    leads = sorted(
        {d for days in Clinic.objects.values_list("reminder_lead_days", flat=True) for d in days}
    )
    groups: dict[tuple[int, str, int], list[MonitoringCheck]] = defaultdict(list)
    for lead in leads:
        around = now.date() + timedelta(days=lead)
        due = (
            MonitoringCheck.objects.filter(
                status=CheckStatus.SCHEDULED,
                due_date__range=(around - timedelta(days=1), around + timedelta(days=1)),
                course__status=CourseStatus.ACTIVE,
                course__patient__reminder_consent=True,
            )
            .exclude(course__patient__email="")
            .select_related("course__patient__clinic")
        )
        for check in due:
            patient = check.course.patient
            clinic = patient.clinic
            local = now.astimezone(_zone(patient))
            if lead not in clinic.reminder_lead_days:
                continue
            if (
                not clinic.reminder_hour
                <= local.hour
                < max(QUIET_FROM_HOUR, clinic.reminder_hour + 1)
            ):
                continue
            if local.date() + timedelta(days=lead) != check.due_date:
                continue
            groups[(patient.pk, check.due_date.isoformat(), lead)].append(check)
    return groups


def _reminder_subject(checks: list[MonitoringCheck], lead: int, due_date: str) -> str:
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
                kind=Kind.REMINDER,
                subject=_reminder_subject(checks, lead, due_date),
                dedupe_key=f"reminder/{patient.uuid}/{due_date}/{lead}d",
                context={"due_date": due_date, "lead_days": lead},
                patient=patient,
                course=course,
                checks=checks,
            )
        )
    return queued


def reminder_resend(*, check: MonitoringCheck, requested_by=None) -> Message:
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
            raise LifecycleConflict(
                {"status": "Reminders go out only while the course is active."}, code="conflict"
            )
        if check.status not in (CheckStatus.SCHEDULED, CheckStatus.OVERDUE):
            raise LifecycleConflict(
                {"status": f"The check is {check.get_status_display().lower()}."}, code="conflict"
            )
        if not patient.email:
            raise ValidationError({"email": "The patient has no email address: add one first."})
        if not patient.reminder_consent:
            raise ValidationError(
                {"reminder_consent": "The patient has not agreed to email reminders."}
            )
        if check.messages.filter(
            kind=Kind.REMINDER, status__in=(Message.Status.QUEUED, Message.Status.SENDING)
        ).exists():
            raise LifecycleConflict(
                {"check": "A reminder for this check is already waiting to be sent."},
                code="conflict",
            )
        checks = list(
            course.checks.filter(
                status__in=(CheckStatus.SCHEDULED, CheckStatus.OVERDUE), due_date=check.due_date
            )
        )
        due_date, lead = check.due_date.isoformat(), (check.due_date - patient.clinic.today()).days
        message = message_queue(
            clinic=patient.clinic,
            recipient=patient.email,
            kind=Kind.REMINDER,
            subject=_reminder_subject(checks, lead, due_date),
            dedupe_key=f"reminder/{patient.uuid}/{due_date}/resend/{uuid.uuid4()}",
            context={
                "due_date": due_date,
                "lead_days": lead,
                "requested_by": getattr(requested_by, "pk", None),
            },
            patient=patient,
            course=course,
            checks=checks,
        )
        dispatch_after_commit()
    return message


def pause_alerts_queue(*, report: InfectionReport, rules: tuple[InfectionRule, ...]) -> int:
    """Alert the clinic's staff and the patient that a course is paused for an infection; sent
    as soon as the transaction commits. Queued reminders of the course are cancelled."""
    course = report.course
    patient, clinic = course.patient, course.patient.clinic
    Message.objects.filter(course=course, kind=Kind.REMINDER, status=Message.Status.QUEUED).update(
        status=Message.Status.CANCELLED, last_error="course paused"
    )
    data = {
        **_who(course),
        "serious": report.serious,
        "reporter": report.get_reporter_display(),
        "reported_at": timezone.localtime(report.reported_at, ZoneInfo(clinic.time_zone)).strftime(
            "%Y-%m-%d %H:%M %Z"
        ),
        "rules": [{"text": r.text, "source": r.source, "action": r.action} for r in rules],
        "admin_url": _admin_url(course),
    }
    queued = 0
    for user_id, email in _staff(clinic):
        queued += bool(
            message_queue(
                clinic=clinic,
                recipient=email,
                kind=Kind.PAUSE_ALERT_STAFF,
                subject=f"Course paused: infection reported ({patient.mrn})",
                dedupe_key=f"pause-alert/{report.uuid}/staff/{user_id}",
                context=data,
                patient=patient,
                course=course,
            )
        )
    if patient.email:
        queued += bool(
            message_queue(
                clinic=clinic,
                recipient=patient.email,
                kind=Kind.PAUSE_ALERT_PATIENT,
                subject="Your treatment is on hold: please contact your clinic",
                dedupe_key=f"pause-alert/{report.uuid}/patient",
                context={"drug": course.drug.name},
                patient=patient,
                course=course,
            )
        )
    dispatch_after_commit()
    return queued


def result_alert_queue(*, result: LabResult) -> int:
    """Alert staff at once when a result's evaluation is interrupt or discontinue."""
    if result.outcome_action not in (LabResult.Action.INTERRUPT, LabResult.Action.DISCONTINUE):
        return 0
    course = result.course
    clinic = course.patient.clinic
    data = {
        **_who(course),
        "action": result.get_outcome_action_display(),
        "analyte": result.analyte,
        "value": result.value_text,
        "unit": result.unit,
        "collected_on": result.collected_on.isoformat(),
        "findings": result.outcome,
        "admin_url": _admin_url(course),
    }
    queued = sum(
        bool(
            message_queue(
                clinic=clinic,
                recipient=email,
                kind=Kind.RESULT_ALERT_STAFF,
                subject=f"Lab result needs review: {result.get_outcome_action_display()} ({course.patient.mrn})",
                dedupe_key=f"result-alert/{result.uuid}/staff/{user_id}",
                context=data,
                patient=course.patient,
                course=course,
            )
        )
        for user_id, email in _staff(clinic)
    )
    dispatch_after_commit()
    return queued


def new_dates_queue(*, course: TherapyCourse, pause: CoursePause) -> int:
    """After a resume, tell the patient the new dates of their checks."""
    patient = course.patient
    if not (patient.reminder_consent and patient.email):
        return 0
    message = message_queue(
        clinic=patient.clinic,
        recipient=patient.email,
        kind=Kind.NEW_DATES,
        subject="Your treatment has restarted: new dates for your checks",
        dedupe_key=f"new-dates/{course.uuid}/{pause.pk}",
        patient=patient,
        course=course,
    )
    dispatch_after_commit()
    return int(message is not None)


def checks_mark_overdue(*, now: datetime | None = None) -> int:
    """A scheduled check whose window ended (in its clinic's calendar) without a result is overdue."""
    now = now or timezone.now()
    ensure_check_transition(CheckStatus.SCHEDULED, CheckStatus.OVERDUE)
    marked = 0
    for clinic in Clinic.objects.all():
        today = now.astimezone(ZoneInfo(clinic.time_zone)).date()
        with transaction.atomic():  # locked, so a check completed meanwhile is not overwritten
            rows = list(
                MonitoringCheck.objects.select_for_update(of=("self",)).filter(
                    course__patient__clinic=clinic,
                    status=CheckStatus.SCHEDULED,
                    window_end__lt=today,
                )
            )
            for row in rows:
                row.status, row.sequence, row.updated_at = (
                    CheckStatus.OVERDUE,
                    row.sequence + 1,
                    now,
                )
            bulk_update_with_history(
                rows,
                MonitoringCheck,
                ["status", "sequence", "updated_at"],
                batch_size=500,
                default_change_reason="window ended without a result",
            )
        marked += len(rows)
    return marked


def overdue_digests_queue(*, now: datetime | None = None) -> int:
    """Once a day per clinic (from its reminder hour), each staff member gets the overdue checks
    and the open courses that have no next check."""
    now = now or timezone.now()
    queued = 0
    for clinic in Clinic.objects.all():
        local = now.astimezone(ZoneInfo(clinic.time_zone))
        staff = _staff(clinic)
        if local.hour < clinic.reminder_hour or not staff:
            continue
        overdue = (
            overdue_checks()
            .filter(course__patient__clinic=clinic)
            .select_related("course__patient")[:DIGEST_ROWS]
        )
        no_next = (
            courses_without_next_check()
            .filter(patient__clinic=clinic)
            .select_related("patient", "drug")[:DIGEST_ROWS]
        )
        data = {
            "date": local.date().isoformat(),
            "overdue": [
                {
                    "mrn": c.course.patient.mrn,
                    "initials": c.course.patient.initials,
                    "kind": c.get_kind_display(),
                    "window_end": c.window_end.isoformat(),
                }
                for c in overdue
            ],
            "no_next": [
                {"mrn": c.patient.mrn, "initials": c.patient.initials, "drug": c.drug.name}
                for c in no_next
            ],
            "admin_url": settings.JAKMONITOR["BASE_URL"].rstrip("/") + reverse("admin:index"),
        }
        for user_id, email in staff:
            queued += bool(
                message_queue(
                    clinic=clinic,
                    recipient=email,
                    kind=Kind.OVERDUE_DIGEST,
                    subject=f"Monitoring worklist {data['date']}: {len(data['overdue'])} overdue",
                    dedupe_key=f"digest/{clinic.uuid}/{data['date']}/{user_id}",
                    context=data,
                )
            )
    return queued

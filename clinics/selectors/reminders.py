"""Which patient reminders are due now."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta

from ..core.dates import local
from ..core.vocab import CheckOrigin, CheckStatus, CourseStatus
from ..models import Clinic, MonitoringCheck, TherapyCourse
from .recipients import patient_zone

QUIET_FROM_HOUR = 21  # no reminder is queued from 21:00 local time; a missed one is not sent late


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
            wall = local(now, patient_zone(patient))
            if lead not in clinic.reminder_lead_days:
                continue
            if (
                not clinic.reminder_hour
                <= wall.hour
                < max(QUIET_FROM_HOUR, clinic.reminder_hour + 1)
            ):
                continue
            if wall.date() + timedelta(days=lead) != check.due_date:
                continue
            groups[(patient.pk, check.due_date.isoformat(), lead)].append(check)
    return groups


def checks_to_attend(
    *, course: TherapyCourse, today: date, limit: int = 10
) -> list[MonitoringCheck]:
    """The checks a patient goes to next, for a "new dates" email: scheduled, not yet past, and
    not the planned screening before the first dose (once the course is under way it is no
    longer a date to attend; a catch-up for screening that was missed still is)."""
    upcoming = course.checks.filter(status=CheckStatus.SCHEDULED, due_date__gte=today).exclude(
        origin=CheckOrigin.PLAN, plan_key__endswith="/baseline"
    )
    return list(upcoming.order_by("due_date", "kind")[:limit])

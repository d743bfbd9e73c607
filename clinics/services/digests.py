"""The daily staff digest: per clinic, the findings awaiting a decision (escalated first), the
checks due now, the overdue checks and the open courses with no next check."""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone

from ..core.dates import local
from ..core.vocab import MessageKind
from ..models import Clinic, Finding, MonitoringCheck
from ..public_urls import public_url
from ..selectors.recipients import staff_recipients
from ..selectors.worklists import (
    checks_due_now,
    courses_without_next_check,
    findings_undecided,
    overdue_checks,
)
from .outbox import message_queue

DIGEST_ROWS = 200  # a digest lists at most this many rows per section (the admin has them all)


def overdue_digests_queue(*, now: datetime | None = None) -> int:
    """Once a day per clinic (from its reminder hour), each staff member gets the findings
    awaiting a decision, the checks due now, the overdue checks and the open courses that have
    no next check."""
    now = now or timezone.now()
    queued = 0
    for clinic in Clinic.objects.all():
        wall = local(now, clinic.time_zone)
        staff = staff_recipients(clinic=clinic)
        if wall.hour < clinic.reminder_hour or not staff:
            continue
        checks_of_clinic = {
            name: [
                _check_row(c)
                for c in rows.filter(course__patient__clinic=clinic).select_related(
                    "course__patient"
                )[:DIGEST_ROWS]
            ]
            for name, rows in (("due_now", checks_due_now()), ("overdue", overdue_checks()))
        }
        no_next = (
            courses_without_next_check()
            .filter(patient__clinic=clinic)
            .select_related("patient", "drug")[:DIGEST_ROWS]
        )
        findings = (
            findings_undecided()
            .filter(course__patient__clinic=clinic)
            .select_related("course__patient")[:DIGEST_ROWS]
        )
        data = {
            "date": wall.date().isoformat(),
            "findings": [_finding_row(f) for f in findings],
            **checks_of_clinic,
            "no_next": [
                {"mrn": c.patient.mrn, "initials": c.patient.initials, "drug": c.drug.name}
                for c in no_next
            ],
            "admin_url": public_url("admin:index"),
        }
        for user_id, email in staff:
            queued += bool(
                message_queue(
                    clinic=clinic,
                    recipient=email,
                    kind=MessageKind.OVERDUE_DIGEST,
                    subject=f"Monitoring worklist {data['date']}: "
                    f"{len(data['findings'])} findings to decide, "
                    f"{len(data['due_now'])} due now, {len(data['overdue'])} overdue",
                    dedupe_key=f"digest/{clinic.uuid}/{data['date']}/{user_id}",
                    context=data,
                )
            )
    return queued


def _check_row(check: MonitoringCheck) -> dict[str, str]:
    return {
        "mrn": check.course.patient.mrn,
        "initials": check.course.patient.initials,
        "kind": check.get_kind_display(),
        "due_date": check.due_date.isoformat(),
        "window_end": check.window_end.isoformat(),
    }


def _finding_row(finding: Finding) -> dict[str, str | bool]:
    return {
        "mrn": finding.course.patient.mrn,
        "initials": finding.course.patient.initials,
        "action": finding.get_action_display(),
        "collected_on": finding.collected_on.isoformat(),
        "status": finding.get_status_display(),
        "escalated": finding.escalated_at is not None,
        "url": public_url("admin:clinics_finding_change", finding.pk),
    }

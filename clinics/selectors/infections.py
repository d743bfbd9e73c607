"""What reporting an infection will do, shown to staff before they confirm it, and the checks
its facts must pass (the same before the preview and before the report is saved)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.core.exceptions import ValidationError

from ..core.vocab import TO_DO_CHECKS, CourseStatus, InfectionKind
from ..models import TherapyCourse
from .recipients import staff_recipients


def infection_facts_check(
    *, course: TherapyCourse, kind: str, onset_on: date | None, day: date
) -> None:
    """Refuse facts that cannot be right for a report made on `day` (the clinic's date)."""
    if kind not in InfectionKind.values():
        raise ValidationError({"kind": InfectionKind.refusal()})
    if onset_on is not None and onset_on > day:
        raise ValidationError({"onset_on": "The infection cannot begin after it is reported."})


@dataclass(frozen=True)
class InfectionPreview:
    already_paused: bool  # the report then joins the current pause
    checks_on_hold: int
    staff_alerted: int
    patient_alerted: bool  # only with an email address on file


def infection_report_preview(
    *, course: TherapyCourse, kind: str, onset_on: date
) -> InfectionPreview:
    """What a report made now would do; refuses the facts `infection_report` would refuse."""
    infection_facts_check(
        course=course, kind=kind, onset_on=onset_on, day=course.patient.clinic.today()
    )
    paused = course.status == CourseStatus.PAUSED
    return InfectionPreview(
        already_paused=paused,
        checks_on_hold=0 if paused else course.checks.filter(status__in=TO_DO_CHECKS).count(),
        staff_alerted=len(staff_recipients(clinic=course.patient.clinic)),
        patient_alerted=bool(course.patient.email),
    )

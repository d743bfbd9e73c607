"""What a patient's page shows."""

from __future__ import annotations

from dataclasses import dataclass

from ..core.vocab import OPEN_CHECKS, CourseStatus
from ..models import InfectionReport, LabResult, Message, MonitoringCheck, Patient, TherapyCourse


@dataclass(frozen=True)
class PatientOverview:
    courses: list[TherapyCourse]
    open_checks: list[MonitoringCheck]
    results: list[LabResult]
    infections: list[InfectionReport]
    messages: list[Message]

    @property
    def open_course(self) -> TherapyCourse | None:
        return next((c for c in self.courses if c.status != CourseStatus.STOPPED), None)


OVERVIEW_ROWS = 50  # per section; the worklists and the History pages have the rest


def patient_overview(patient: Patient) -> PatientOverview:
    """What a patient page shows: every course, the open checks (overdue, due, on hold) with
    the "why" of each, the latest results, infection reports and messages (a fixed number of
    queries whatever the patient's history)."""
    return PatientOverview(
        courses=list(patient.courses.select_related("drug").order_by("-start_date")),
        open_checks=list(
            MonitoringCheck.objects.filter(course__patient=patient, status__in=OPEN_CHECKS)
            .select_related("course__drug")
            .order_by("due_date", "kind")[:OVERVIEW_ROWS]
        ),
        results=list(
            LabResult.objects.filter(course__patient=patient)
            .select_related("course__drug")
            .order_by("-collected_on", "-id")[:OVERVIEW_ROWS]
        ),
        infections=list(
            InfectionReport.objects.filter(course__patient=patient)
            .select_related("course__drug")
            .order_by("-reported_at")[:OVERVIEW_ROWS]
        ),
        messages=list(patient.messages.order_by("-created_at")[:OVERVIEW_ROWS]),
    )

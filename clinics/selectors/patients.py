"""What a patient's page shows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from ..core.care import CareSummary, CheckDates, care_state, care_summary
from ..core.vocab import OPEN_CHECKS, CareState, CheckStatus, CourseStatus
from ..models import InfectionReport, LabResult, Message, MonitoringCheck, Patient, TherapyCourse


@dataclass(frozen=True)
class OpenCheck:
    check: MonitoringCheck
    state: CareState | None


@dataclass(frozen=True)
class PatientOverview:
    courses: list[TherapyCourse]
    summary: CareSummary  # of the open course, or of the latest one
    open_checks: list[OpenCheck]
    results: list[LabResult]
    infections: list[InfectionReport]
    messages: list[Message]

    @property
    def open_course(self) -> TherapyCourse | None:
        return next((c for c in self.courses if c.status != CourseStatus.STOPPED), None)


OVERVIEW_ROWS = 50  # per section; the worklists and the History pages have the rest


def patient_overview(patient: Patient) -> PatientOverview:
    """What a patient page shows: every course, the one-line care summary, the open checks
    (overdue, due now, results pending, upcoming, on hold) with the "why" of each, the latest results, infection
    reports and messages (a fixed number of queries whatever the patient's history)."""
    today = patient.clinic.today()
    courses = list(patient.courses.select_related("drug").order_by("-start_date"))
    open_checks = (
        MonitoringCheck.objects.filter(
            course__patient=patient, status__in=[*OPEN_CHECKS, CheckStatus.PENDING]
        )
        .select_related("course__drug")
        .order_by("due_date", "kind")[:OVERVIEW_ROWS]
    )
    return PatientOverview(
        courses=courses,
        summary=course_care_summary(_current(courses), today=today),
        open_checks=[OpenCheck(c, _state(c, today)) for c in open_checks],
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


def patient_care_summary(patient: Patient) -> CareSummary:
    """The care summary of the patient's open course, or of the latest one (two queries)."""
    courses = list(patient.courses.order_by("-start_date"))
    return course_care_summary(_current(courses), today=patient.clinic.today())


def course_care_summary(course: TherapyCourse | None, *, today: date) -> CareSummary:
    """Per kind of check of the course: last done, next due, how late (one query)."""
    if course is None:
        return care_summary([], today=today)
    rows = course.checks.order_by().values_list(
        "kind", "status", "due_date", "window_end", "completed_on"
    )
    return care_summary((CheckDates(*row) for row in rows), today=today)


def _current(courses: list[TherapyCourse]) -> TherapyCourse | None:
    """Newest first in: the course not stopped, else the latest."""
    open_course = next((c for c in courses if c.status != CourseStatus.STOPPED), None)
    return open_course or next(iter(courses), None)


def _state(check: MonitoringCheck, today: date) -> CareState | None:
    return care_state(
        status=check.status, due_date=check.due_date, window_end=check.window_end, today=today
    )

"""Safety news, sent as soon as the transaction that causes it commits: pause alerts (infection
reported) to staff and patient, result alerts to staff, and the new dates after a resume. Each is
an outbox row with a dedupe key, so nothing is sent twice."""

from __future__ import annotations

from typing import Any

from ..core.dates import local
from ..core.ruleset import InfectionRule
from ..core.vocab import MessageKind, MessageStatus, OutcomeAction
from ..models import CoursePause, InfectionReport, LabResult, Message, TherapyCourse
from ..public_urls import public_url
from ..selectors.recipients import staff_recipients
from .outbox import dispatch_after_commit, message_queue


def _who(course: TherapyCourse) -> dict[str, Any]:
    """How staff mail names a patient: MRN and initials, never the full name; and the course's
    page in the admin."""
    return {
        "mrn": course.patient.mrn,
        "initials": course.patient.initials,
        "drug": course.drug.name,
        "admin_url": public_url("admin:clinics_therapycourse_change", course.pk),
    }


def pause_alerts_queue(*, report: InfectionReport, rules: tuple[InfectionRule, ...]) -> int:
    """Alert the clinic's staff and the patient that a course is paused for an infection; sent
    as soon as the transaction commits. Queued reminders of the course are cancelled."""
    course = report.course
    patient, clinic = course.patient, course.patient.clinic
    Message.objects.filter(
        course=course, kind=MessageKind.REMINDER, status=MessageStatus.QUEUED
    ).update(status=MessageStatus.CANCELLED, last_error="course paused")
    data = {
        **_who(course),
        "kind": report.get_kind_display(),
        "onset_on": report.onset_on.isoformat() if report.onset_on else "",
        "serious": report.serious,
        "reporter": report.get_reporter_display(),
        "reported_at": local(report.reported_at, clinic.time_zone).strftime("%Y-%m-%d %H:%M %Z"),
        "rules": [{"text": r.text, "source": r.source, "action": r.action} for r in rules],
    }
    queued = 0
    for user_id, email in staff_recipients(clinic=clinic):
        queued += bool(
            message_queue(
                clinic=clinic,
                recipient=email,
                kind=MessageKind.PAUSE_ALERT_STAFF,
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
                kind=MessageKind.PAUSE_ALERT_PATIENT,
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
    """Alert staff at once when a result's outcome alerts staff (interrupt or discontinue)."""
    action = OutcomeAction(result.outcome_action)
    if not action.alerts_staff:
        return 0
    course = result.course
    clinic = course.patient.clinic
    data = {
        **_who(course),
        "action": action.label,
        "analyte": result.analyte,
        "value": result.value_text,
        "unit": result.unit,
        "collected_on": result.collected_on.isoformat(),
        "findings": result.outcome,
    }
    queued = sum(
        bool(
            message_queue(
                clinic=clinic,
                recipient=email,
                kind=MessageKind.RESULT_ALERT_STAFF,
                subject=f"Lab result needs review: {action.label} ({course.patient.mrn})",
                dedupe_key=f"result-alert/{result.uuid}/staff/{user_id}",
                context=data,
                patient=course.patient,
                course=course,
            )
        )
        for user_id, email in staff_recipients(clinic=clinic)
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
        kind=MessageKind.NEW_DATES,
        subject="Your treatment has restarted: new dates for your checks",
        dedupe_key=f"new-dates/{course.uuid}/{pause.pk}",
        patient=patient,
        course=course,
    )
    dispatch_after_commit()
    return int(message is not None)

"""Safety news, sent as soon as the transaction that causes it commits: pause alerts (infection
reported) to staff and patient, finding alerts (and their escalation) to staff, the new dates
after a resume, and the patient's notice that a course was stopped. Each is an outbox row with a
dedupe key, so nothing is sent twice."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from ..core.dates import local
from ..core.ruleset import InfectionRule
from ..core.units import ANALYTE_NAMES
from ..core.vocab import MessageKind, MessageStatus, OutcomeAction
from ..models import Clinic, CoursePause, Finding, InfectionReport, Message, Patient, TherapyCourse
from ..public_urls import public_url
from ..selectors.plans import course_contraception
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
    queued = _to_staff(
        clinic=clinic,
        kind=MessageKind.PAUSE_ALERT_STAFF,
        subject=f"Course paused: infection reported ({patient.mrn})",
        key=f"pause-alert/{report.uuid}",
        context=data,
        patient=patient,
        course=course,
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
    dispatch_after_commit(safety=True)
    return queued


def _finding_data(finding: Finding) -> dict[str, Any]:
    """What a finding alert says: each result of the sample with the rules it reached, and a
    link to the finding, where the decision is recorded."""
    course = finding.course
    return {
        **_who(course),
        "action": finding.get_action_display(),
        "collected_on": finding.collected_on.isoformat(),
        "confirm": finding.confirm,
        "results": [
            {
                "analyte": ANALYTE_NAMES.get(r.analyte, r.analyte),
                "reading": r.reading,
                "outcome": r.get_outcome_action_display(),
                "findings": r.outcome,
            }
            for r in finding.results.order_by("id")
        ],
        "finding_url": public_url("admin:clinics_finding_change", finding.pk),
    }


def _to_staff(
    *,
    clinic: Clinic,
    kind: MessageKind,
    subject: str,
    key: str,
    context: dict[str, Any],
    patient: Patient | None,
    course: TherapyCourse | None,
    skip: str = "",
) -> int:
    """One message to each of the clinic's staff (but the address `skip`), sent at once."""
    queued = sum(
        bool(
            message_queue(
                clinic=clinic,
                recipient=email,
                kind=kind,
                subject=subject,
                dedupe_key=f"{key}/staff/{user_id}",
                context=context,
                patient=patient,
                course=course,
            )
        )
        for user_id, email in staff_recipients(clinic=clinic)
        if email.lower() != skip.lower()
    )
    dispatch_after_commit(safety=True)
    return queued


def _finding_to_staff(finding: Finding, *, kind: MessageKind, subject: str, key: str) -> int:
    course = finding.course
    return _to_staff(
        clinic=course.patient.clinic,
        kind=kind,
        subject=subject,
        key=key,
        context=_finding_data(finding),
        patient=course.patient,
        course=course,
    )


def finding_alert_queue(*, finding: Finding) -> int:
    """Alert staff at once when a finding's outcome alerts staff (interrupt or discontinue): one
    alert per sample, and one more only if a later result of the same sample is more severe."""
    action = OutcomeAction(finding.action)
    if not action.alerts_staff:
        return 0
    return _finding_to_staff(
        finding,
        kind=MessageKind.RESULT_ALERT_STAFF,
        subject=f"Lab result needs review: {action.label} ({finding.course.patient.mrn})",
        key=f"finding-alert/{finding.uuid}/{action.value}",
    )


def finding_escalation_queue(*, finding: Finding) -> int:
    """The second alert: a finding has waited its clinic's escalation period for a decision."""
    return _finding_to_staff(
        finding,
        kind=MessageKind.FINDING_ESCALATION,
        subject=f"Finding still needs a decision: {finding.get_action_display()} "
        f"({finding.course.patient.mrn})",
        key=f"finding-escalation/{finding.uuid}",
    )


def new_dates_queue(*, course: TherapyCourse, pause: CoursePause) -> int:
    """After a resume, tell the patient the new dates of their checks; not for a pause that ended
    by the first dose, which moved no date."""
    patient = course.patient
    if not (patient.reminder_consent and patient.email):
        return 0
    if pause.resumed_on is not None and pause.resumed_on <= course.start_date:
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
    dispatch_after_commit(safety=True)
    return int(message is not None)


def course_stopped_queue(*, course: TherapyCourse) -> int:
    """Tell the patient their treatment was stopped and its checks cancelled, with the label's
    contraception period after the last dose where it gives one."""
    patient = course.patient
    if not (patient.reminder_consent and patient.email):
        return 0
    contraception = course_contraception(course=course)
    context: dict[str, Any] = {"drug": course.drug.name}
    if contraception is not None:
        context["contraception"] = {
            "text": contraception.text,
            "until": contraception.until.isoformat(),
        }
    message = message_queue(
        clinic=patient.clinic,
        recipient=patient.email,
        kind=MessageKind.COURSE_STOPPED,
        subject="Your treatment has been stopped: your planned checks are cancelled",
        dedupe_key=f"course-stopped/{course.uuid}",
        patient=patient,
        course=course,
        context=context,
    )
    dispatch_after_commit()
    return int(message is not None)


def safety_undelivered_queue(*, message: Message) -> int:
    """A safety message failed for good: tell the clinic's other staff (the failed recipient may
    be the one who needed it), naming the patient by MRN and what did not arrive."""
    clinic = message.clinic
    data: dict[str, Any] = {
        "what": message.get_kind_display(),
        "recipient": message.recipient,
        "error": message.last_error,
        "failed_url": public_url("admin:clinics_failedmessage_change", message.pk),
    }
    if message.course is not None:
        data.update(_who(message.course))
    mrn = message.patient.mrn if message.patient else ""
    return _to_staff(
        clinic=clinic,
        kind=MessageKind.SAFETY_UNDELIVERED,
        subject=f"Safety message not delivered: {message.get_kind_display()} ({mrn})",
        key=f"safety-undelivered/{message.uuid}/{timezone.now().isoformat()}",  # each failure
        context=data,
        patient=message.patient,
        course=message.course,
        skip=message.recipient,
    )

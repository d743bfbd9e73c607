"""Infection reports: a report pauses the course at once; resolving one allows a resume."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from ..core.dates import today_in
from ..core.ruleset import InfectionRule
from ..core.vocab import (
    CourseStatus,
    InfectionOutcome,
    LifecycleConflict,
    PauseReason,
    Reporter,
    conflict,
)
from ..models import InfectionReport, TherapyCourse
from ..rulebook import drug_rules
from ..selectors.infections import infection_facts_check
from .alerts import pause_alerts_queue
from .courses import _locked, _pause


@dataclass(frozen=True)
class InfectionReported:
    report: InfectionReport
    rules: tuple[InfectionRule, ...]  # what the label says to do, for the alert


def infection_report(
    *,
    course: TherapyCourse,
    kind: str,
    onset_on: date | None,
    serious: bool,
    reporter: str,
    description: str = "",
    reported_by: User | None = None,
    reported_at: datetime | None = None,
) -> InfectionReported:
    """Record an infection (its kind, the day it began, whether serious) and pause the course in
    the same transaction. Only a patient may leave the day it began unknown (None).

    Every report pauses, serious or not: the labels interrupt for serious infections, and until a
    clinician has looked, the service holds the course (clinicians resume). A course already
    paused keeps its pause and the report joins it.
    Side effects: InfectionReport row; the course PAUSED and its open checks ON_HOLD; pause
    alerts to the clinic's staff and the patient, sent as soon as the transaction commits.
    """
    if reporter not in Reporter.values():
        raise ValidationError({"reporter": Reporter.refusal()})
    if onset_on is None and reporter != Reporter.PATIENT:
        raise ValidationError({"onset_on": "Give the day the symptoms began."})
    now = timezone.now()
    reported_at = reported_at or now
    if timezone.is_naive(reported_at):
        raise ValidationError({"reported_at": "Give the time with its time zone."})
    if reported_at > now:
        raise ValidationError({"reported_at": "The report time is in the future."})
    with transaction.atomic():
        course = _locked(course)
        if course.status == CourseStatus.STOPPED:
            raise conflict("course", "The course is stopped.")
        if reported_at < course.created_at:
            raise ValidationError(
                {"reported_at": "The report cannot be earlier than the course was entered."}
            )
        day = today_in(course.patient.clinic.time_zone, reported_at)
        infection_facts_check(course=course, kind=kind, onset_on=onset_on, day=day)
        if course.status == CourseStatus.PAUSED:
            pause = course.pauses.get(resumed_on__isnull=True)
        else:
            try:
                pause = _pause(
                    course,
                    reason=PauseReason.INFECTION,
                    paused_on=today_in(course.patient.clinic.time_zone, reported_at),
                    note="Infection reported",
                )
            except LifecycleConflict:
                raise
            except ValidationError as exc:  # the pause's date is the report's time
                raise ValidationError({"reported_at": exc.messages}) from None
        report = InfectionReport.objects.create(
            course=course,
            kind=kind,
            onset_on=onset_on,
            serious=serious,
            description=description,
            reporter=reporter,
            reported_by=reported_by,
            reported_at=reported_at,
            pause=pause,
        )
        jurisdiction = course.patient.clinic.jurisdiction
        rules = tuple(
            r
            for r in drug_rules(drug=course.drug).infection
            if r.applies(jurisdiction=jurisdiction, indication=course.indication)
        )
        pause_alerts_queue(report=report, rules=rules)
    return InfectionReported(report=report, rules=rules)


def infection_resolve(
    *,
    report: InfectionReport,
    outcome: str,
    note: str = "",
    resolved_at: datetime | None = None,
    resolved_by: User | None = None,
) -> InfectionReport:
    """Mark an infection resolved with its outcome (a clinician then decides whether to resume)."""
    if outcome not in InfectionOutcome.values():
        raise ValidationError({"outcome": InfectionOutcome.refusal()})
    if outcome == InfectionOutcome.OTHER and not note.strip():
        raise ValidationError({"note": "Say what the outcome was."})
    with transaction.atomic():
        report = InfectionReport.objects.select_for_update().get(pk=report.pk)
        if report.resolved_at is not None:
            raise conflict("resolved_at", "This infection is already resolved.")
        resolved_at = resolved_at or timezone.now()
        if resolved_at < report.reported_at or resolved_at > timezone.now():
            raise ValidationError({"resolved_at": "Give a time between the report and now."})
        report.resolved_at = resolved_at
        report.resolved_by = resolved_by
        report.outcome, report.resolution_note = outcome, note
        report.save(update_fields=["resolved_at", "resolved_by", "outcome", "resolution_note"])
    return report

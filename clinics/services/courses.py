"""A course's lifecycle: start, pause, resume, change dose, stop. Every change re-plans."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from ..lifecycle import CourseStatus, LifecycleConflict, ensure_course_transition
from ..models import CoursePause, DoseChange, Drug, LabResult, Patient, TherapyCourse
from ..planning import Advice, PlannedCheck, reconcile
from ..ruleset import Threshold
from ..thresholds import Outcome, evaluate
from .notifications import new_dates_queue
from .plans import checks_hold, course_plan, course_replan
from .rules import drug_rules, protocol_rules

MAX_START_AHEAD = timedelta(days=366)  # planning further ahead than this is a typing mistake


@dataclass(frozen=True)
class CourseStarted:
    course: TherapyCourse
    checks_planned: int
    advice: tuple[Advice, ...]


def _validate_dose_and_indication(
    *, drug: Drug, jurisdiction: str, dose_code: str, indication: str
) -> None:
    rules = drug_rules(drug=drug)
    errors = {}
    if jurisdiction not in rules.drug.jurisdictions:
        errors["drug"] = (
            f"{rules.drug.name} has no label for the clinic's jurisdiction ({jurisdiction})."
        )
    indications = {i.code: i.name for i in rules.drug.indications}
    if indication not in indications:
        errors["indication"] = f"Choose one of: {', '.join(sorted(indications))}."
    dose = rules.dose(dose_code)
    if dose is None:
        errors["dose_code"] = f"Choose one of: {', '.join(d.code for d in rules.doses)}."
    elif not dose.applies(jurisdiction=jurisdiction, indication=indication):
        errors["dose_code"] = (
            f"{dose.label} is not a labelled dose for {indications.get(indication, indication)}."
        )
    if errors:
        raise ValidationError(errors)


@dataclass(frozen=True)
class BaselineFinding:
    result: LabResult
    outcome: Outcome


def baseline_findings(
    *, patient: Patient, drug: Drug, indication: str, start_date: date
) -> tuple[BaselineFinding, ...]:
    """The patient's latest result of each analyte within the protocol's baseline look-back
    (from any earlier course, e.g. before a switch), evaluated against this drug's baseline
    rules: do-not-start thresholds and baseline advice, each with its text and source."""
    clinic = patient.clinic
    protocol = protocol_rules(protocol=clinic.protocol)
    since = protocol.settings.baseline_lookback.before(start_date)
    latest: dict[str, LabResult] = {}
    for result in LabResult.objects.filter(
        course__patient=patient, collected_on__range=(since, start_date)
    ).order_by("analyte", "-collected_on", "-id"):
        latest.setdefault(result.analyte, result)
    rules = drug_rules(drug=drug)
    findings = []
    for result in latest.values():
        outcome = evaluate(
            drug=rules,
            protocol=protocol,
            analyte=result.analyte,
            value=result.value,
            unit=result.unit,
            jurisdiction=clinic.jurisdiction,
            indication=indication,
            phase="baseline",
        )
        if outcome.findings:
            findings.append(BaselineFinding(result, outcome))
    return tuple(findings)


def _do_not_start_message(findings: list[BaselineFinding]) -> str:
    return " ".join(
        f"{f.result.analyte} {f.result.value_text} {f.result.unit} on "
        f"{f.result.collected_on}: {f.outcome.summary} ({f.outcome.findings[0].source})."
        for f in findings
    )


@dataclass(frozen=True)
class StartPreview:
    """What starting a course would do, shown to staff before anything is saved."""

    course: TherapyCourse  # unsaved
    checks: tuple[PlannedCheck, ...]
    advice: tuple[Advice, ...]
    do_not_start_rules: tuple[Threshold, ...]
    findings: tuple[BaselineFinding, ...]

    @property
    def blocking(self) -> bool:
        return any(f.outcome.action == "do_not_start" for f in self.findings)


def course_start_preview(
    *,
    patient: Patient,
    drug: Drug,
    dose_code: str,
    indication: str,
    start_date: date,
    renal_value: Decimal | None = None,
    renal_measure: str = "",
) -> StartPreview:
    """The checks `course_start` would plan, the renal and age dose advice, the drug's
    do-not-start thresholds and the patient's recent results that reach them. Writes nothing;
    raises the ValidationError `course_start` would raise for bad input."""
    clinic = patient.clinic
    _validate_dose_and_indication(
        drug=drug, jurisdiction=clinic.jurisdiction, dose_code=dose_code, indication=indication
    )
    if (renal_value is None) != (not renal_measure):
        raise ValidationError({"renal_measure": "Give the renal value together with its measure."})
    if renal_value is not None and renal_value < 0:
        raise ValidationError({"renal_value": "Renal function cannot be negative."})
    if start_date < patient.date_of_birth:
        raise ValidationError(
            {"start_date": "The start date is before the patient's date of birth."}
        )
    if start_date > clinic.today() + MAX_START_AHEAD:
        raise ValidationError({"start_date": "A course can be entered at most a year ahead."})
    course = TherapyCourse(
        patient=patient,
        drug=drug,
        rules_version_id=drug.current_version_id,
        dose_code=dose_code,
        indication=indication,
        start_date=start_date,
        renal_value=renal_value,
        renal_measure=renal_measure,
    )
    today = clinic.today()
    plan = course_plan(course=course, as_of=today)
    checks = reconcile(existing=(), planned=plan.checks, as_of=today, backfill_baseline=True).create
    thresholds = [
        *drug_rules(drug=drug).thresholds,
        *protocol_rules(protocol=clinic.protocol).thresholds,
    ]
    return StartPreview(
        course=course,
        checks=tuple(checks),
        advice=plan.advice,
        do_not_start_rules=tuple(
            t
            for t in thresholds
            if t.action == "do_not_start"
            and t.applies(jurisdiction=clinic.jurisdiction, indication=indication)
        ),
        findings=baseline_findings(
            patient=patient, drug=drug, indication=indication, start_date=start_date
        ),
    )


def course_start(
    *,
    patient: Patient,
    drug: Drug,
    dose_code: str,
    indication: str,
    start_date: date,
    renal_value: Decimal | None = None,
    renal_measure: str = "",
    started_by=None,
    acknowledge_do_not_start: bool = False,
) -> CourseStarted:
    """Enrol a patient on a JAK inhibitor and plan every check its rules call for.

    A patient has at most one open course: a switch is a stop (with its reason) and a new start.
    When one of the patient's recent results reaches one of the drug's do-not-start thresholds
    (`baseline_findings`), the start is refused unless the prescriber's review is acknowledged;
    the acknowledgement is kept in the course's history.
    Side effects: the course and its MonitoringCheck rows are created. Returns the renal and age
    dose advice from the drug's rules (advice only: the prescriber decides).
    """
    preview = course_start_preview(
        patient=patient,
        drug=drug,
        dose_code=dose_code,
        indication=indication,
        start_date=start_date,
        renal_value=renal_value,
        renal_measure=renal_measure,
    )
    with transaction.atomic():
        Patient.objects.select_for_update().get(pk=patient.pk)
        # Read under the lock: a result recorded meanwhile is seen.
        blocking = [
            f
            for f in baseline_findings(
                patient=patient, drug=drug, indication=indication, start_date=start_date
            )
            if f.outcome.action == "do_not_start"
        ]
        if blocking and not acknowledge_do_not_start:
            raise ValidationError({"acknowledge_do_not_start": _do_not_start_message(blocking)})
        open_course = (
            patient.courses.exclude(status=CourseStatus.STOPPED).select_related("drug").first()
        )
        if open_course is not None:
            raise LifecycleConflict(
                {
                    "drug": f"The patient already has an open {open_course.drug} course; stop it first."
                },
                code="conflict",
            )
        today = patient.clinic.today()
        course = preview.course
        course.status = CourseStatus.ACTIVE if start_date <= today else CourseStatus.PLANNED
        course.status_changed_at = timezone.now()
        course.created_by = started_by
        course.full_clean()
        if blocking:
            rules = sorted({found.rule_id for f in blocking for found in f.outcome.findings})
            reason = "Prescriber acknowledged do-not-start: " + ", ".join(rules)
            course._change_reason = reason[:100]  # simple-history keeps 100 characters
        course.save()
        changes = course_replan(course=course, as_of=today, first=True)
    return CourseStarted(course=course, checks_planned=len(changes.create), advice=preview.advice)


def _locked(course: TherapyCourse) -> TherapyCourse:
    return (
        TherapyCourse.objects.select_for_update(of=("self",))
        .select_related("patient__clinic", "drug")
        .get(pk=course.pk)
    )


def _set_status(course: TherapyCourse, status: str) -> None:
    ensure_course_transition(course.status, status)
    course.status = status
    course.status_changed_at = timezone.now()


def course_activate(*, course: TherapyCourse) -> TherapyCourse:
    """A planned course whose start date has come becomes active."""
    with transaction.atomic():
        course = _locked(course)
        if course.start_date > course.patient.clinic.today():
            raise ValidationError(
                {"start_date": "The course starts later; it cannot be active yet."}
            )
        _set_status(course, CourseStatus.ACTIVE)
        course.save(update_fields=["status", "status_changed_at"])
    return course


def courses_activate_due() -> int:
    """Planned courses whose start date has come (in their clinic's time zone) become active."""
    count = 0
    planned = TherapyCourse.objects.filter(status=CourseStatus.PLANNED).select_related(
        "patient__clinic"
    )
    for course in planned:
        if course.start_date <= course.patient.clinic.today():
            try:
                course_activate(course=course)
            except LifecycleConflict:  # changed meanwhile (paused or stopped): nothing to do
                continue
            count += 1
    return count


def course_pause(
    *, course: TherapyCourse, reason: str, paused_on: date | None = None, note: str = ""
) -> CoursePause:
    """Take the patient off the drug: the course is paused and its open checks go on hold.

    Side effects: a CoursePause row; open checks ON_HOLD (reminders stop, feeds show them
    cancelled). Resuming re-plans from the resume date.
    """
    if reason not in CoursePause.Reason.values:
        raise ValidationError({"reason": f"Choose one of: {', '.join(CoursePause.Reason.values)}."})
    with transaction.atomic():
        course = _locked(course)
        today = course.patient.clinic.today()
        paused_on = paused_on or today
        if paused_on > today:
            raise ValidationError({"paused_on": "A pause cannot start in the future."})
        if course.status == CourseStatus.ACTIVE and paused_on < course.start_date:
            raise ValidationError({"paused_on": f"The course started on {course.start_date}."})
        last = course.pauses.exclude(resumed_on__isnull=True).order_by("-resumed_on").first()
        if last is not None and paused_on < last.resumed_on:
            raise ValidationError(
                {
                    "paused_on": f"The course was off the drug until {last.resumed_on}; pause after that."
                }
            )
        _set_status(course, CourseStatus.PAUSED)
        course.save(update_fields=["status", "status_changed_at"])
        pause = CoursePause.objects.create(
            course=course, paused_on=paused_on, reason=reason, note=note
        )
        checks_hold(course=course)
    return pause


def course_resume(*, course: TherapyCourse, resumed_on: date | None = None) -> TherapyCourse:
    """Back on the drug: checks after the pause move by its length and leave hold.

    Refused while an infection reported for this course is unresolved.
    Side effects: the open pause is closed; checks re-planned; the patient is sent the new dates.
    """
    with transaction.atomic():
        course = _locked(course)
        if course.status != CourseStatus.PAUSED:
            raise LifecycleConflict(
                {"status": "Only a paused course can be resumed."}, code="conflict"
            )
        if course.infections.filter(resolved_at__isnull=True).exists():
            raise LifecycleConflict(
                {"status": "Resolve the reported infection before resuming the course."},
                code="conflict",
            )
        pause = course.pauses.get(resumed_on__isnull=True)
        today = course.patient.clinic.today()
        resumed_on = resumed_on or today
        if resumed_on < pause.paused_on:
            raise ValidationError(
                {"resumed_on": f"The course was paused on {pause.paused_on}; resume after that."}
            )
        if resumed_on > today:
            raise ValidationError({"resumed_on": "A course cannot be resumed in the future."})
        pause.resumed_on = resumed_on
        pause.save(update_fields=["resumed_on"])
        _set_status(
            course, CourseStatus.ACTIVE if course.start_date <= today else CourseStatus.PLANNED
        )
        course.save(update_fields=["status", "status_changed_at"])
        course_replan(course=course, as_of=today)
        new_dates_queue(course=course, pause=pause)
    return course


def course_change_dose(
    *, course: TherapyCourse, dose_code: str, effective_on: date | None = None, changed_by=None
) -> DoseChange:
    """Record a new dose; a dose increase brings any "after a dose increase" checks."""
    with transaction.atomic():
        course = _locked(course)
        if course.status == CourseStatus.STOPPED:
            raise LifecycleConflict({"status": "The course is stopped."}, code="conflict")
        clinic = course.patient.clinic
        _validate_dose_and_indication(
            drug=course.drug,
            jurisdiction=clinic.jurisdiction,
            dose_code=dose_code,
            indication=course.indication,
        )
        if dose_code == course.dose_code:
            raise ValidationError({"dose_code": "That is the current dose."})
        effective_on = effective_on or clinic.today()
        if effective_on < course.start_date:
            raise ValidationError({"effective_on": "The change cannot be before the course start."})
        if effective_on > clinic.today() + MAX_START_AHEAD:
            raise ValidationError({"effective_on": "A change can be entered at most a year ahead."})
        rules = drug_rules(drug=course.drug)
        old, new = rules.dose(course.dose_code), rules.dose(dose_code)
        change = DoseChange.objects.create(
            course=course,
            from_dose=course.dose_code,
            to_dose=dose_code,
            effective_on=effective_on,
            is_increase=bool(old and new and new.daily_mg > old.daily_mg),
            changed_by=changed_by,
        )
        course.dose_code = dose_code
        course.save(update_fields=["dose_code"])
        course_replan(course=course)
    return change


def course_stop(
    *, course: TherapyCourse, reason: str, stopped_on: date | None = None, note: str = ""
) -> TherapyCourse:
    """Stop the drug for good, recording why (so switches between drugs are visible).

    Side effects: every open check is cancelled.
    """
    if reason not in TherapyCourse.StopReason.values:
        raise ValidationError(
            {"stop_reason": f"Choose one of: {', '.join(TherapyCourse.StopReason.values)}."}
        )
    with transaction.atomic():
        course = _locked(course)
        today = course.patient.clinic.today()
        stopped_on = stopped_on or today
        if stopped_on > today:
            raise ValidationError({"stopped_on": "A course cannot be stopped in the future."})
        if stopped_on < min(course.start_date, today):
            raise ValidationError({"stopped_on": f"The course started on {course.start_date}."})
        _set_status(course, CourseStatus.STOPPED)
        course.stop_reason = reason
        course.stop_note = note
        course.stopped_on = stopped_on
        course.save(
            update_fields=["status", "status_changed_at", "stop_reason", "stop_note", "stopped_on"]
        )
        course_replan(course=course)
    return course

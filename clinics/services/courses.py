"""A course's lifecycle: start, pause, resume, change dose, stop. Every change re-plans."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from ..core.planning import Advice
from ..core.vocab import (
    STAFF_PAUSE_REASONS,
    CourseStatus,
    LifecycleConflict,
    PauseReason,
    StopReason,
    conflict,
    ensure_course_transition,
)
from ..models import CoursePause, DoseChange, Drug, Patient, TherapyCourse
from ..rulebook import drug_rules
from ..selectors.starts import (
    MAX_AHEAD,
    BaselineFinding,
    baseline_findings,
    blocking,
    course_start_preview,
    dose_validate,
)
from .alerts import course_stopped_queue, new_dates_queue
from .checks import checks_hold
from .replanning import course_replan
from .versions import ensure_version


@dataclass(frozen=True)
class CourseStarted:
    course: TherapyCourse
    checks_planned: int
    advice: tuple[Advice, ...]
    catch_ups: int = 0  # catch-up checks for what was missed before the course was entered


def _do_not_start_message(findings: list[BaselineFinding]) -> str:
    return " ".join(
        f"{f.result.analyte} {f.result.reading} on "
        f"{f.result.collected_on}: {f.outcome.summary} ({f.outcome.findings[0].source})."
        for f in findings
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
    creatinine: Decimal | None = None,
    creatinine_unit: str = "",
    child_pugh: str = "",
    interacting: Sequence[str] | None = None,
    conditions: Sequence[str] | None = None,
    started_by: User | None = None,
    acknowledge_do_not_start: bool = False,
    done_elsewhere: Mapping[str, date] | None = None,
) -> CourseStarted:
    """Enrol a patient on a JAK inhibitor and plan every check its rules call for.

    A patient has at most one open course: a switch is a stop (with its reason) and a new start.
    When one of the patient's recent results reaches one of the drug's do-not-start thresholds
    (`baseline_findings`), the start is refused unless the prescriber's review is acknowledged;
    the acknowledgement is kept in the course's history.
    A course entered after its start (a patient already on the drug) is planned from its start:
    `done_elsewhere` gives the day each kind was last done, and every planned check whose window
    closed before today and was not done since is caught up by one check per kind due now.
    Side effects: the course and its MonitoringCheck rows are created. Returns the dose advice
    (renal, age, hepatic, interactions, conditions) from the drug's rules; `interacting` and
    `conditions` None means not reviewed, [] reviewed and none apply (advice only: the
    prescriber decides).
    """
    preview = course_start_preview(
        patient=patient,
        drug=drug,
        dose_code=dose_code,
        indication=indication,
        start_date=start_date,
        renal_value=renal_value,
        renal_measure=renal_measure,
        creatinine=creatinine,
        creatinine_unit=creatinine_unit,
        child_pugh=child_pugh,
        interacting=interacting,
        conditions=conditions,
        done_elsewhere=done_elsewhere,
    )
    with transaction.atomic():
        Patient.objects.select_for_update().get(pk=patient.pk)
        # Read under the lock: a result recorded meanwhile is seen.
        reached = blocking(
            baseline_findings(
                patient=patient, drug=drug, indication=indication, start_date=start_date
            )
        )
        if reached and not acknowledge_do_not_start:
            raise ValidationError({"acknowledge_do_not_start": _do_not_start_message(reached)})
        open_course = (
            patient.courses.exclude(status=CourseStatus.STOPPED).select_related("drug").first()
        )
        if open_course is not None:
            raise conflict(
                "drug", f"The patient already has an open {open_course.drug} course; stop it first."
            )
        today = patient.clinic.today()
        course = preview.course
        course.status = CourseStatus.ACTIVE if start_date <= today else CourseStatus.PLANNED
        course.status_changed_at = timezone.now()
        course.created_by = started_by
        course.full_clean()
        if reached:
            rules = sorted({found.rule_id for f in reached for found in f.outcome.findings})
            reason = "Prescriber acknowledged do-not-start: " + ", ".join(rules)
            course._change_reason = reason[:100]  # type: ignore[attr-defined]  # simple-history's hook, 100 characters
        course.save()
        changes = course_replan(
            course=course,
            as_of=today,
            first=True,
            done_elsewhere=done_elsewhere,
            recorded_by=started_by,
        )
    return CourseStarted(
        course=course,
        checks_planned=len(changes.create),
        advice=preview.advice,
        catch_ups=len(changes.catch_up),
    )


def _locked(course: TherapyCourse, version: int | None = None) -> TherapyCourse:
    """The course, locked; `version`, when given, must be its current one (a change made from an
    older page or copy is refused, never applied over a newer one)."""
    locked = (
        TherapyCourse.objects.select_for_update(of=("self",))
        .select_related("patient__clinic", "drug")
        .get(pk=course.pk)
    )
    ensure_version(locked, version)
    return locked


# Saved with every status change: the status, its time and the version it raises.
STATUS_FIELDS = ["status", "status_changed_at", "version"]


def _set_status(course: TherapyCourse, status: CourseStatus) -> None:
    ensure_course_transition(course.status, status)
    course.status = status
    course.status_changed_at = timezone.now()
    course.version += 1


def course_activate(*, course: TherapyCourse) -> TherapyCourse:
    """A planned course whose start date has come becomes active."""
    with transaction.atomic():
        course = _locked(course)
        if course.start_date > course.patient.clinic.today():
            raise ValidationError(
                {"start_date": "The course starts later; it cannot be active yet."}
            )
        _set_status(course, CourseStatus.ACTIVE)
        course.save(update_fields=STATUS_FIELDS)
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
    *,
    course: TherapyCourse,
    reason: str,
    paused_on: date | None = None,
    note: str = "",
    version: int | None = None,
) -> CoursePause:
    """Take the patient off the drug: the course is paused and its open checks go on hold.

    An infection is not a reason staff pause for: `infection_report` records it, pauses and
    alerts staff and the patient.
    Side effects: a CoursePause row; open checks ON_HOLD (reminders stop, feeds show them
    cancelled). Resuming re-plans from the resume date.
    """
    if reason == PauseReason.INFECTION:
        raise ValidationError(
            {"reason": "Report the infection instead: the report pauses and alerts."}
        )
    if reason not in STAFF_PAUSE_REASONS:
        raise ValidationError(
            {"reason": f"Choose one of: {', '.join(r.value for r in STAFF_PAUSE_REASONS)}."}
        )
    with transaction.atomic():
        return _pause(
            _locked(course, version), reason=PauseReason(reason), paused_on=paused_on, note=note
        )


def _pause(
    course: TherapyCourse, *, reason: PauseReason, paused_on: date | None, note: str
) -> CoursePause:
    """Pause a locked course (`course_pause`, and `infection_report` for an infection)."""
    today = course.patient.clinic.today()
    paused_on = paused_on or today
    if paused_on > today:
        raise ValidationError({"paused_on": "A pause cannot start in the future."})
    if course.status == CourseStatus.ACTIVE and paused_on < course.start_date:
        raise ValidationError({"paused_on": f"The course started on {course.start_date}."})
    last = course.pauses.exclude(resumed_on__isnull=True).order_by("-resumed_on").first()
    if last is not None and last.resumed_on is not None and paused_on < last.resumed_on:
        raise ValidationError(
            {"paused_on": f"The course was off the drug until {last.resumed_on}; pause after that."}
        )
    _set_status(course, CourseStatus.PAUSED)
    course.save(update_fields=STATUS_FIELDS)
    pause = CoursePause.objects.create(course=course, paused_on=paused_on, reason=reason, note=note)
    checks_hold(course=course)
    return pause


def course_resume(
    *, course: TherapyCourse, resumed_on: date | None = None, version: int | None = None
) -> TherapyCourse:
    """Back on the drug: checks after the pause move by its length and leave hold.

    Refused while an infection reported for this course is unresolved.
    Side effects: the open pause is closed; checks re-planned; the patient is sent the new dates.
    """
    with transaction.atomic():
        course = _locked(course, version)
        if course.status != CourseStatus.PAUSED:
            raise conflict("status", "Only a paused course can be resumed.")
        if course.infections.filter(resolved_at__isnull=True).exists():
            raise conflict("status", "Resolve the reported infection before resuming the course.")
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
        course.save(update_fields=STATUS_FIELDS)
        course_replan(course=course, as_of=today)
        new_dates_queue(course=course, pause=pause)
    return course


def course_change_dose(
    *,
    course: TherapyCourse,
    dose_code: str,
    effective_on: date | None = None,
    changed_by: User | None = None,
    version: int | None = None,
) -> DoseChange:
    """Record a new dose; a dose increase brings any "after a dose increase" checks."""
    with transaction.atomic():
        course = _locked(course, version)
        if course.status == CourseStatus.STOPPED:
            raise conflict("status", "The course is stopped.")
        clinic = course.patient.clinic
        dose_validate(
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
        if effective_on > clinic.today() + MAX_AHEAD:
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
        course.version += 1
        course.save(update_fields=["dose_code", "version"])
        course_replan(course=course)
    return change


def course_mark_dose_stable(
    *, course: TherapyCourse, stable_on: date | None = None, version: int | None = None
) -> TherapyCourse:
    """A clinician marks the dose stable: the drug's "until the dose is stable" checks (oral
    ruxolitinib: CBC every 2 to 4 weeks) end, and the plan goes on with the routine ones."""
    with transaction.atomic():
        course = _locked(course, version)
        if course.status == CourseStatus.STOPPED:
            raise conflict("status", "The course is stopped.")
        if not any(r.until_dose_stable for r in drug_rules(drug=course.drug).monitoring):
            raise ValidationError(
                {
                    "stable_on": f"{course.drug.name} has no checks that last until the dose is stable."
                }
            )
        today = course.patient.clinic.today()
        stable_on = stable_on or today
        if stable_on > today:
            raise ValidationError({"stable_on": "The dose cannot be marked stable in the future."})
        if stable_on < course.start_date:
            raise ValidationError({"stable_on": f"The course started on {course.start_date}."})
        course.dose_stable_on = stable_on
        course.version += 1
        course.save(update_fields=["dose_stable_on", "version"])
        course_replan(course=course)
    return course


def course_stop(
    *,
    course: TherapyCourse,
    reason: str,
    stopped_on: date | None = None,
    note: str = "",
    version: int | None = None,
) -> TherapyCourse:
    """Stop the drug for good, recording why (so switches between drugs are visible).

    Side effects: every open check is cancelled; a consenting patient is emailed that the
    course was stopped, with the label's contraception period after the last dose.
    """
    if reason not in StopReason.values():
        raise ValidationError({"stop_reason": StopReason.refusal()})
    with transaction.atomic():
        course = _locked(course, version)
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
        course.save(update_fields=[*STATUS_FIELDS, "stop_reason", "stop_note", "stopped_on"])
        course_replan(course=course)
        course_stopped_queue(course=course)
    return course

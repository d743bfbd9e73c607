"""A check's status and sequence: the one module that writes them.

Every change of a check's status goes through `_transition` (the allowed transitions are
`core.vocab.CHECK_TRANSITIONS`) and raises its `sequence`, which calendar feeds send as SEQUENCE
and reminders use to tell a current check from a changed one. Re-planning, pausing, stopping,
the overdue sweep and completing a check all write through here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from types import MappingProxyType

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from simple_history.utils import bulk_update_with_history

from ..core.dates import today_in
from ..core.thresholds import most_severe
from ..core.units import ANALYTE_NAMES
from ..core.vocab import (
    OPEN_CHECKS,
    TO_DO_CHECKS,
    CheckOrigin,
    CheckStatus,
    MissingReason,
    OutcomeAction,
    conflict,
    ensure_check_transition,
)
from ..models import Clinic, MonitoringCheck, TherapyCourse
from .alerts import finding_alert_queue
from .findings import finding_close_by_repeat
from .results import RecordedResult, ResultInput, earliest_sample, lab_result_record

STATUS_FIELDS = ("status", "sequence", "updated_at")


def _transition(row: MonitoringCheck, status: CheckStatus) -> None:
    ensure_check_transition(row.status, status)
    row.status = status
    row.sequence += 1


def checks_move(
    *,
    moves: Iterable[tuple[MonitoringCheck, CheckStatus]],
    fields: Sequence[str] = (),
    reason: str | None = None,
    at: datetime | None = None,
) -> list[MonitoringCheck]:
    """Give each row its new status (its sequence grows even when the status stays, as the
    caller changed its plan) and write them in bulk with their history: the status fields and
    `fields`, which the caller has already set (each field costs a CASE over every row).
    `at` is the change's time (default: now)."""
    now = at or timezone.now()
    rows = []
    for row, status in moves:
        _transition(row, status)
        row.updated_at = now
        rows.append(row)
    bulk_update_with_history(
        rows,
        MonitoringCheck,
        [*STATUS_FIELDS, *fields],
        batch_size=500,
        default_change_reason=reason,
    )
    return rows


def checks_cancel(*, rows: Iterable[MonitoringCheck]) -> int:
    """Cancel the open ones among `rows` (no longer planned, or the course stopped)."""
    return len(
        checks_move(moves=[(r, CheckStatus.CANCELLED) for r in rows if r.status in OPEN_CHECKS])
    )


def checks_hold(*, course: TherapyCourse) -> int:
    """Put every check still to do of a course on hold (its course was paused), except repeat
    tests ordered from a finding: they are how an interruption ends."""
    to_do = [
        c
        for c in course.checks.all()
        if c.status in TO_DO_CHECKS and c.origin != CheckOrigin.REPEAT
    ]
    return len(checks_move(moves=[(row, CheckStatus.ON_HOLD) for row in to_do]))


def checks_mark_overdue(*, now: datetime | None = None) -> int:
    """A scheduled check whose window ended (in its clinic's calendar) without a result is overdue."""
    now = now or timezone.now()
    ensure_check_transition(CheckStatus.SCHEDULED, CheckStatus.OVERDUE)
    marked = 0
    for clinic in Clinic.objects.all():
        with transaction.atomic():  # locked, so a check completed meanwhile is not overwritten
            rows = MonitoringCheck.objects.select_for_update(of=("self",)).filter(
                course__patient__clinic=clinic,
                status=CheckStatus.SCHEDULED,
                window_end__lt=today_in(clinic.time_zone, now),
            )
            marked += len(
                checks_move(
                    moves=[(row, CheckStatus.OVERDUE) for row in rows],
                    reason="window ended without a result",
                    at=now,
                )
            )
    return marked


@dataclass(frozen=True)
class CheckCompleted:
    check: MonitoringCheck
    results: tuple[RecordedResult, ...]

    @property
    def action(self) -> OutcomeAction:
        """The most severe threshold action among the results."""
        return most_severe(r.outcome.action for r in self.results)

    @property
    def alerts_staff(self) -> bool:
        return self.action.alerts_staff


def check_sample_taken(*, check: MonitoringCheck, sampled_on: date) -> MonitoringCheck:
    """The sample was taken: the check waits for its results (no more reminders; the results
    pending worklist shows it until `check_complete` records them)."""
    with transaction.atomic():
        check = _locked(check)
        if check.status == CheckStatus.PENDING:
            raise conflict("status", f"The sample was already taken on {check.sampled_on}.")
        ensure_check_transition(check.status, CheckStatus.PENDING)
        _ensure_sample_date(check, sampled_on, "sampled_on")
        _transition(check, CheckStatus.PENDING)
        check.sampled_on = sampled_on
        check.save(update_fields=[*STATUS_FIELDS, "sampled_on"])
    return check


def check_sample_lost(*, check: MonitoringCheck) -> MonitoringCheck:
    """The sample taken for a check was lost (or unusable): the check is to do again, back on
    the lists by its dates (due now, or overdue if its window has closed)."""
    with transaction.atomic():
        check = _locked(check)
        if check.status != CheckStatus.PENDING:
            raise conflict("status", "Only a check whose sample was taken can lose its sample.")
        _transition(check, CheckStatus.SCHEDULED)
        check.sampled_on = None
        check.save(update_fields=[*STATUS_FIELDS, "sampled_on"])
    return check


def check_complete(
    *,
    check: MonitoringCheck,
    completed_on: date,
    results: Sequence[ResultInput] = (),
    missing: Mapping[str, str] = MappingProxyType({}),
    confirm_outside_window: bool = False,
    completed_by: User | None = None,
) -> CheckCompleted:
    """Mark a check done, record its results and evaluate each against the thresholds.

    Every analyte the check names has a value in `results` or a reason in `missing`
    (`MissingReason`), so a check is never done with its values silently absent. A day outside
    the check's window needs `confirm_outside_window`, and the check keeps that flag.
    All or nothing: a bad result leaves the check open and stores nothing.
    Side effects: the check is DONE (reminders for it stop); LabResult rows are stored.
    """
    with transaction.atomic():
        check = _locked(check)
        if check.status == CheckStatus.DONE:
            raise conflict("status", f"This check was done on {check.completed_on}.")
        ensure_check_transition(check.status, CheckStatus.DONE)
        _ensure_sample_date(check, completed_on, "completed_on")
        outside = not check.window_start <= completed_on <= check.window_end
        errors = _unaccounted_analytes(check, results, missing)
        if outside and not confirm_outside_window:
            errors["completed_on"] = (
                f"{completed_on} is outside this check's window ({check.window_start} to "
                f"{check.window_end}): confirm that the date is right to record it."
            )
        if errors:
            raise ValidationError(errors)
        recorded = []
        for index, item in enumerate(results):
            try:
                recorded.append(
                    lab_result_record(
                        course=check.course,
                        analyte=item.analyte,
                        value=item.value,
                        unit=item.unit,
                        interpretation=item.interpretation,
                        collected_on=completed_on,
                        monitoring_check=check,
                        recorded_by=completed_by,
                        alert=False,
                    )
                )
            except ValidationError as exc:
                raise ValidationError(
                    {f"results[{index}].{k}": v for k, v in exc.message_dict.items()}
                ) from None
        _transition(check, CheckStatus.DONE)
        check.completed_on = completed_on
        check.completed_at = timezone.now()
        check.completed_by = completed_by
        check.results_missing = dict(missing)
        check.done_outside_window = outside
        check.save(
            update_fields=[
                *STATUS_FIELDS,
                "completed_on",
                "completed_at",
                "completed_by",
                "results_missing",
                "done_outside_window",
            ]
        )
        finding_close_by_repeat(check=check)
        for finding in {r.result.finding for r in recorded if r.result.finding is not None}:
            finding_alert_queue(finding=finding)  # one alert for the sample, not one per analyte
    return CheckCompleted(check=check, results=tuple(recorded))


def check_repeat_create(
    *,
    course: TherapyCourse,
    key: str,
    kind: str,
    analytes: Sequence[str],
    due_on: date,
    window_end: date,
    why: str,
) -> MonitoringCheck:
    """A repeat test ordered from a finding: due now, outside the drug's plan (re-planning leaves
    it alone), and pausing the course does not hold it (a repeat test is how an interruption
    ends)."""
    return MonitoringCheck.objects.create(
        course=course,
        plan_key=key,
        origin=CheckOrigin.REPEAT,
        kind=kind,
        analytes=list(analytes),
        due_date=due_on,
        window_start=due_on,
        window_end=window_end,
        status=CheckStatus.SCHEDULED,
        rule_ids=[],
        why=why,
        verified=True,
        rules_version_id=course.drug.current_version_id,
    )


def _locked(check: MonitoringCheck) -> MonitoringCheck:
    """The check, locked, after its course (locked first, as re-planning does, so a completion
    and a re-plan never interleave and a done check is never overwritten)."""
    TherapyCourse.objects.select_for_update().filter(pk=check.course_id).first()
    return (
        MonitoringCheck.objects.select_for_update(of=("self",))
        .select_related("course__patient__clinic", "course__drug")
        .get(pk=check.pk)
    )


def _ensure_sample_date(check: MonitoringCheck, day: date, field: str) -> None:
    if day > check.course.patient.clinic.today():
        raise ValidationError({field: "The date is in the future."})
    if day < earliest_sample(check.course):
        raise ValidationError(
            {field: f"The course starts on {check.course.start_date}: check the date."}
        )


def _unaccounted_analytes(
    check: MonitoringCheck, results: Sequence[ResultInput], missing: Mapping[str, str]
) -> dict[str, str]:
    """Errors unless each analyte of the check has one value or one reason (never both)."""
    given = [item.analyte for item in results]
    if len(given) != len(set(given)):
        twice = next(a for a in given if given.count(a) > 1)
        return {"results": f"{twice} is given twice."}
    errors: dict[str, str] = {}
    for analyte, reason in missing.items():
        if analyte not in check.analytes:
            errors[f"missing[{analyte}]"] = "This check does not measure it."
        elif analyte in given:
            errors[f"missing[{analyte}]"] = "A value is given for it: keep the value or the reason."
        elif reason not in MissingReason.values():
            errors[f"missing[{analyte}]"] = MissingReason.refusal()
    absent = [a for a in check.analytes if a not in given and a not in missing]
    if absent:
        names = ", ".join(ANALYTE_NAMES.get(a, a) for a in absent)
        errors["results"] = f"Give a value, or the reason there is none, for each analyte: {names}."
    return errors

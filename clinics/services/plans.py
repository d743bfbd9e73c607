"""Turning a course into the planner's facts, and writing the plan back as MonitoringCheck rows."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from ..lifecycle import OPEN_CHECK_STATUSES, CheckStatus, CourseStatus, ensure_check_transition
from ..models import MonitoringCheck, TherapyCourse
from ..planning import (
    Changes,
    CourseFacts,
    ExistingCheck,
    Pause,
    Plan,
    PlannedCheck,
    plan_course,
    reconcile,
)
from ..ruleset import Duration
from .rules import drug_rules, protocol_rules

PLAN_FIELDS = (
    "kind",
    "due_date",
    "window_start",
    "window_end",
    "rule_ids",
    "why",
    "verified",
    "analytes",
    "instructions",
)


def _horizon() -> Duration:
    return Duration(settings.JAKMONITOR["PLAN_HORIZON_MONTHS"], "m")


def course_facts(*, course: TherapyCourse) -> CourseFacts:
    """The planner's facts; an unsaved course (a preview before starting) has no history yet."""
    patient = course.patient
    saved = course.pk is not None
    return CourseFacts(
        start=course.start_date,
        jurisdiction=patient.clinic.jurisdiction,
        indication=course.indication,
        dose_code=course.dose_code,
        age_years=patient.age_on(course.start_date),
        sex_at_birth=None
        if patient.sex_at_birth == patient.SexAtBirth.UNKNOWN
        else patient.sex_at_birth,
        renal_value=course.renal_value,
        renal_measure=course.renal_measure or None,
        pauses=tuple(Pause(p.paused_on, p.resumed_on) for p in course.pauses.all())
        if saved
        else (),
        dose_increases=tuple(c.effective_on for c in course.dose_changes.all() if c.is_increase)
        if saved
        else (),
    )


def course_plan(*, course: TherapyCourse, as_of: date | None = None) -> Plan:
    """The plan the rules give for this course now (nothing is written)."""
    clinic = course.patient.clinic
    return plan_course(
        drug=drug_rules(drug=course.drug),
        protocol=protocol_rules(protocol=clinic.protocol),
        facts=course_facts(course=course),
        as_of=as_of or clinic.today(),
        horizon=_horizon(),
    )


def _target_status(course: TherapyCourse, planned: PlannedCheck, as_of: date) -> str:
    if course.status == CourseStatus.PAUSED:
        return CheckStatus.ON_HOLD
    return CheckStatus.OVERDUE if planned.window_end < as_of else CheckStatus.SCHEDULED


def _new_check(course: TherapyCourse, planned: PlannedCheck, status: str) -> MonitoringCheck:
    return MonitoringCheck(
        course=course,
        plan_key=planned.key,
        status=status,
        rules_version_id=course.drug.current_version_id,
        **_plan_fields(planned),
    )


def _plan_fields(planned: PlannedCheck) -> dict:
    return {
        name: list(v) if isinstance(v, tuple) else v
        for name, v in zip(PLAN_FIELDS, planned.content, strict=True)
    }


def _content(row: MonitoringCheck) -> tuple:
    """The stored counterpart of `PlannedCheck.content`."""
    return tuple(
        tuple(v) if isinstance(v, list) else v for v in (getattr(row, f) for f in PLAN_FIELDS)
    )


def course_replan(
    *, course: TherapyCourse, as_of: date | None = None, first: bool = False
) -> Changes:
    """Make the course's checks follow its current plan, by stable key.

    Done checks are kept as they are; open checks are moved, put on hold (paused course) or
    cancelled when no longer needed; missing future checks are created. The unique
    (course, plan_key) constraint guards against duplicates even under concurrent re-plans,
    and the course row is locked for the duration.
    Side effects: MonitoringCheck rows created or changed (their `sequence` grows), so reminders
    and calendar feeds follow.
    """
    with transaction.atomic():
        course = (
            TherapyCourse.objects.select_for_update(of=("self",))
            .select_related("patient__clinic__protocol", "drug")
            .get(pk=course.pk)
        )
        as_of = as_of or course.patient.clinic.today()
        rows = {c.plan_key: c for c in course.checks.all()}
        if course.status == CourseStatus.STOPPED:
            _cancel(rows.values())
            return Changes(
                (), (), tuple(k for k, c in rows.items() if c.status in OPEN_CHECK_STATUSES), ()
            )
        plan = course_plan(course=course, as_of=as_of)
        changes = reconcile(
            existing=[ExistingCheck(c.plan_key, c.status, _content(c)) for c in rows.values()],
            planned=plan.checks,
            as_of=as_of,
            backfill_baseline=first,
        )
        bulk_create_with_history(
            [_new_check(course, p, _target_status(course, p, as_of)) for p in changes.create],
            MonitoringCheck,
        )
        changed: list[MonitoringCheck] = []
        planned_by_key = {p.key: p for p in plan.checks}
        for planned in changes.update:
            row = rows[planned.key]
            _move(row, _target_status(course, planned, as_of))
            for name, value in _plan_fields(planned).items():
                setattr(row, name, value)
            row.rules_version_id = course.drug.current_version_id
            changed.append(row)
        for key in changes.unchanged:
            row = rows[key]
            target = _target_status(course, planned_by_key[key], as_of)
            if row.status in OPEN_CHECK_STATUSES and row.status != target:
                _move(row, target)
                changed.append(row)
        _save(changed)
        _cancel(rows[key] for key in changes.cancel)
        course.rules_version_id = course.drug.current_version_id
        course.planned_until = _horizon().after(as_of)
        course.save(update_fields=["rules_version", "planned_until"])
        return changes


def _move(row: MonitoringCheck, status: str) -> None:
    ensure_check_transition(row.status, status)
    row.status = status
    row.sequence += 1


STATUS_FIELDS = ("status", "sequence", "updated_at")


def _save(
    rows: list[MonitoringCheck], fields=(*STATUS_FIELDS, "rules_version", *PLAN_FIELDS)
) -> None:
    """Write the changed rows in bulk (with their history); `fields` only what changed, as each
    field costs a CASE over every row."""
    now = timezone.now()
    for row in rows:
        row.updated_at = now
    bulk_update_with_history(rows, MonitoringCheck, list(fields), batch_size=500)


def _cancel(rows) -> None:
    changed = []
    for row in rows:
        if row.status in OPEN_CHECK_STATUSES:
            _move(row, CheckStatus.CANCELLED)
            changed.append(row)
    _save(changed, STATUS_FIELDS)


def checks_hold(*, course: TherapyCourse) -> int:
    """Put every open check of a course on hold (its course was paused)."""
    rows = [
        c for c in course.checks.all() if c.status in (CheckStatus.SCHEDULED, CheckStatus.OVERDUE)
    ]
    for row in rows:
        _move(row, CheckStatus.ON_HOLD)
    _save(rows, STATUS_FIELDS)
    return len(rows)


def courses_plan_new(*, courses: Sequence[TherapyCourse], as_of: date) -> int:
    """Plan courses that have no checks yet and store every check with one bulk insert.

    The bulk path for enrolment imports and the benchmark; a course that already has checks
    must go through `course_replan`. Returns the number of checks written. The checks' first
    version is not copied into their history (the course's history records the enrolment);
    every later change is.
    """
    rows: list[MonitoringCheck] = []
    for course in courses:
        plan = course_plan(course=course, as_of=as_of)
        changes = reconcile(existing=(), planned=plan.checks, as_of=as_of, backfill_baseline=True)
        rows.extend(_new_check(course, p, _target_status(course, p, as_of)) for p in changes.create)
    ids = [course.pk for course in courses]
    with transaction.atomic():
        MonitoringCheck.objects.bulk_create(rows, batch_size=2000)
        for start in range(0, len(ids), 2000):
            TherapyCourse.objects.filter(pk__in=ids[start : start + 2000]).update(
                planned_until=_horizon().after(as_of)
            )
    return len(rows)


def plans_roll_forward(*, as_of: date | None = None) -> int:
    """Keep every open course planned `horizon` ahead as days pass (the rolling horizon).

    A course is re-planned once its horizon is a week or more behind (so at most weekly per
    course, and checks always appear at least 23 months ahead); each in its own transaction.
    Returns the number of courses re-planned.
    """
    today = as_of or timezone.localdate()
    behind = _horizon().after(today) - timedelta(days=7)
    due = TherapyCourse.objects.exclude(status=CourseStatus.STOPPED).filter(
        Q(planned_until__isnull=True) | Q(planned_until__lte=behind)
    )
    count = 0
    for course in due.select_related("patient__clinic").iterator(chunk_size=500):
        course_replan(course=course, as_of=as_of)
        count += 1
    return count

"""Writing a course's plan back as MonitoringCheck rows: re-plan one course, plan many new ones in
bulk, and keep every open course planned a rolling horizon ahead."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from simple_history.utils import bulk_create_with_history

from ..core.dates import today_in
from ..core.planning import PlannedCheck
from ..core.reconcile import Changes, ExistingCheck, reconcile
from ..core.vocab import OPEN_CHECKS, CheckStatus, CourseStatus
from ..models import MonitoringCheck, TherapyCourse
from ..rulebook import with_rules
from ..selectors.plans import course_plan, plan_horizon
from .checks import checks_cancel, checks_move

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


def _target_status(course: TherapyCourse, planned: PlannedCheck, as_of: date) -> CheckStatus:
    if course.status == CourseStatus.PAUSED:
        return CheckStatus.ON_HOLD
    return CheckStatus.OVERDUE if planned.window_end < as_of else CheckStatus.SCHEDULED


def _new_check(course: TherapyCourse, planned: PlannedCheck, as_of: date) -> MonitoringCheck:
    return MonitoringCheck(
        course=course,
        plan_key=planned.key,
        status=_target_status(course, planned, as_of),
        rules_version_id=course.drug.current_version_id,
        **_plan_fields(planned),
    )


def _plan_fields(planned: PlannedCheck) -> dict[str, Any]:
    return {
        name: list(v) if isinstance(v, tuple) else v
        for name, v in zip(PLAN_FIELDS, planned.content, strict=True)
    }


def _content(row: MonitoringCheck) -> tuple[object, ...]:
    """The stored counterpart of `PlannedCheck.content`."""
    return tuple(
        tuple(v) if isinstance(v, list) else v for v in (getattr(row, f) for f in PLAN_FIELDS)
    )


def course_replan(
    *, course: TherapyCourse, as_of: date | None = None, first: bool = False
) -> Changes:
    """Make the course's checks follow its current plan, by stable key.

    Done checks are kept as they are; open checks are moved, put on hold (paused course) or
    cancelled when no longer needed; missing future checks are created (`first`: the course's
    first plan, which creates its baseline screening even when entered after its start). The
    unique (course, plan_key) constraint guards against duplicates even under concurrent
    re-plans, and the course row is locked for the duration.
    Side effects: MonitoringCheck rows created or changed (their `sequence` grows), so reminders
    and calendar feeds follow.
    """
    with transaction.atomic():
        course = with_rules(
            TherapyCourse.objects.select_for_update(of=("self",)).select_related(
                "patient__clinic__protocol", "drug"
            ),
            "drug",
            "patient__clinic__protocol",
        ).get(pk=course.pk)
        as_of = as_of or course.patient.clinic.today()
        rows = {c.plan_key: c for c in course.checks.all()}
        if course.status == CourseStatus.STOPPED:
            cancelled = tuple(k for k, c in rows.items() if c.status in OPEN_CHECKS)
            checks_cancel(rows=rows.values())
            return Changes((), (), cancelled, ())
        plan = course_plan(course=course, as_of=as_of)
        changes = reconcile(
            existing=[ExistingCheck(c.plan_key, c.status, _content(c)) for c in rows.values()],
            planned=plan.checks,
            as_of=as_of,
            backfill_baseline=first,
        )
        bulk_create_with_history(
            [_new_check(course, p, as_of) for p in changes.create], MonitoringCheck
        )
        moves = []
        for planned in changes.update:
            row = rows[planned.key]
            for name, value in _plan_fields(planned).items():
                setattr(row, name, value)
            row.rules_version_id = course.drug.current_version_id
            moves.append((row, _target_status(course, planned, as_of)))
        planned_by_key = {p.key: p for p in plan.checks}
        for key in changes.unchanged:
            row = rows[key]
            target = _target_status(course, planned_by_key[key], as_of)
            if row.status in OPEN_CHECKS and row.status != target:
                moves.append((row, target))
        checks_move(moves=moves, fields=("rules_version", *PLAN_FIELDS))
        checks_cancel(rows=[rows[key] for key in changes.cancel])
        course.rules_version_id = course.drug.current_version_id
        course.planned_until = plan_horizon().after(as_of)
        course.save(update_fields=["rules_version", "planned_until"])
        return changes


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
        rows.extend(_new_check(course, p, as_of) for p in changes.create)
    ids = [course.pk for course in courses]
    with transaction.atomic():
        MonitoringCheck.objects.bulk_create(rows, batch_size=2000)
        for start in range(0, len(ids), 2000):
            TherapyCourse.objects.filter(pk__in=ids[start : start + 2000]).update(
                planned_until=plan_horizon().after(as_of)
            )
    return len(rows)


def plans_roll_forward(*, as_of: date | None = None) -> int:
    """Keep every open course planned `horizon` ahead as days pass (the rolling horizon).

    A course is re-planned once its horizon is a week or more behind (so at most weekly per
    course, and checks always appear at least 23 months ahead); each in its own transaction,
    from its clinic's date. Returns the number of courses re-planned.
    """
    today = as_of or today_in(settings.TIME_ZONE)
    behind = plan_horizon().after(today) - timedelta(days=7)
    due = TherapyCourse.objects.exclude(status=CourseStatus.STOPPED).filter(
        Q(planned_until__isnull=True) | Q(planned_until__lte=behind)
    )
    count = 0
    for course in due.only("pk").iterator(chunk_size=500):
        course_replan(course=course, as_of=as_of)
        count += 1
    return count

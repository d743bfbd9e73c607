"""Writing a course's plan back as MonitoringCheck rows: re-plan one course, plan many new ones in
bulk, and keep every open course planned a rolling horizon ahead."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Q
from django.db.models.functions import Coalesce
from django.utils import timezone
from simple_history.utils import bulk_create_with_history

from ..core.dates import today_in
from ..core.planning import PlannedCheck
from ..core.reconcile import CatchUp, Changes, DoneBefore, ExistingCheck, reconcile
from ..core.vocab import OPEN_CHECKS, CheckOrigin, CheckStatus, CourseStatus, MissingReason
from ..models import MonitoringCheck, TherapyCourse
from ..rulebook import protocol_rules, with_rules
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


def _catch_up_check(
    course: TherapyCourse, catch_up: CatchUp, as_of: date, *, first: bool
) -> MonitoringCheck:
    """One check due now for the kind's missed checks, within the protocol's catch-up time."""
    within = protocol_rules(protocol=course.patient.clinic.protocol).settings.catch_up_within
    context = "before the course was entered" if first else "before it was planned"
    return MonitoringCheck(
        course=course,
        plan_key=catch_up.key,
        origin=CheckOrigin.CATCH_UP,
        status=CheckStatus.SCHEDULED,
        kind=catch_up.kind,
        due_date=as_of,
        window_start=as_of,
        window_end=within.after(as_of),
        rule_ids=sorted({r for p in catch_up.missed for r in p.rule_ids}),
        why=catch_up.why(context=context),
        verified=all(p.verified for p in catch_up.missed),
        analytes=list(catch_up.analytes),
        instructions=catch_up.missed[-1].instructions,
        rules_version_id=course.drug.current_version_id,
    )


def _done_elsewhere_check(
    course: TherapyCourse, done: DoneBefore, recorded_by: User | None
) -> MonitoringCheck:
    """A planned check staff say was done before the course was entered: done on that date,
    each analyte "done elsewhere" (its values, if known, are entered as results)."""
    row = _new_check(course, done.check, done.done_on)
    row.status = CheckStatus.DONE
    row.completed_on = done.done_on
    row.completed_at = timezone.now()
    row.completed_by = recorded_by
    row.results_missing = {a: MissingReason.DONE_ELSEWHERE.value for a in done.check.analytes}
    row.done_outside_window = not row.window_start <= done.done_on <= row.window_end
    return row


def _rows_written(
    course: TherapyCourse,
    changes: Changes,
    as_of: date,
    *,
    first: bool,
    recorded_by: User | None = None,
) -> list[MonitoringCheck]:
    """The new rows of a reconcile: planned checks, missed ones, their catch-ups and checks
    done elsewhere."""
    missed = [_new_check(course, p, as_of) for p in changes.missed]
    for row in missed:
        row.status = CheckStatus.MISSED
    return [
        *(_new_check(course, p, as_of) for p in changes.create),
        *missed,
        *(_catch_up_check(course, c, as_of, first=first) for c in changes.catch_up),
        *(_done_elsewhere_check(course, d, recorded_by) for d in changes.done_before),
    ]


def _last_done(course: TherapyCourse) -> dict[str, date]:
    """The day each kind was last done or sampled on this course (any origin)."""
    found: dict[str, date] = {}
    for kind, day in course.checks.filter(
        status__in=(CheckStatus.DONE, CheckStatus.PENDING)
    ).values_list("kind", Coalesce("completed_on", "sampled_on")):
        if day is not None and day > found.get(kind, day - timedelta(days=1)):
            found[kind] = day
    return found


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
    *,
    course: TherapyCourse,
    as_of: date | None = None,
    first: bool = False,
    done_elsewhere: Mapping[str, date] | None = None,
    recorded_by: User | None = None,
) -> Changes:
    """Make the course's checks follow its current plan, by stable key.

    Done checks are kept as they are; open checks are moved, put on hold (paused course) or
    cancelled when no longer needed; missing future checks are created (`first`: the course's
    first plan, which creates its baseline screening even when entered after its start).
    Planned checks whose windows already closed are stored as missed with one catch-up check
    per kind due now, unless done since (`done_elsewhere`: the day staff say each kind was last
    done before the course was entered, recorded as a done check). The
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
        if course.status == CourseStatus.STOPPED:
            every = list(course.checks.all())
            cancelled = tuple(c.plan_key for c in every if c.status in OPEN_CHECKS)
            checks_cancel(rows=every)
            return Changes((), (), cancelled, ())
        # Repeat tests and catch-ups are not the plan's own checks: a re-plan leaves them alone.
        rows = {c.plan_key: c for c in course.checks.filter(origin=CheckOrigin.PLAN)}
        plan = course_plan(course=course, as_of=as_of)
        changes = reconcile(
            existing=[ExistingCheck(c.plan_key, c.status, _content(c)) for c in rows.values()],
            planned=plan.checks,
            as_of=as_of,
            backfill_baseline=first,
            last_done=_last_done(course),
            done_elsewhere=done_elsewhere,
            find_missed=course.status != CourseStatus.PAUSED,
        )
        bulk_create_with_history(
            _rows_written(course, changes, as_of, first=first, recorded_by=recorded_by),
            MonitoringCheck,
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
        if course.status != CourseStatus.PAUSED:  # resumed: held catch-ups are due again
            for row in course.checks.filter(
                origin=CheckOrigin.CATCH_UP, status=CheckStatus.ON_HOLD
            ):
                target = CheckStatus.OVERDUE if row.window_end < as_of else CheckStatus.SCHEDULED
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
        rows.extend(_rows_written(course, changes, as_of, first=True))
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

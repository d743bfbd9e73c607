"""Statuses of courses and checks, and the one place that says which transitions are allowed."""

from django.core.exceptions import ValidationError
from django.db import models


class CourseStatus(models.TextChoices):
    PLANNED = "planned", "Planned"
    ACTIVE = "active", "Active"
    PAUSED = "paused", "Paused"
    STOPPED = "stopped", "Stopped"


class CheckStatus(models.TextChoices):
    SCHEDULED = "scheduled", "Scheduled"
    OVERDUE = "overdue", "Overdue"
    ON_HOLD = "on_hold", "On hold (course paused)"
    DONE = "done", "Done"
    CANCELLED = "cancelled", "Cancelled"


COURSE_TRANSITIONS: dict[str, frozenset[str]] = {
    CourseStatus.PLANNED: frozenset(
        {CourseStatus.ACTIVE, CourseStatus.PAUSED, CourseStatus.STOPPED}
    ),
    CourseStatus.ACTIVE: frozenset({CourseStatus.PAUSED, CourseStatus.STOPPED}),
    # A course paused before its first dose goes back to planned when resumed.
    CourseStatus.PAUSED: frozenset(
        {CourseStatus.ACTIVE, CourseStatus.PLANNED, CourseStatus.STOPPED}
    ),
    CourseStatus.STOPPED: frozenset(),
}

CHECK_TRANSITIONS: dict[str, frozenset[str]] = {
    CheckStatus.SCHEDULED: frozenset(
        {CheckStatus.OVERDUE, CheckStatus.ON_HOLD, CheckStatus.DONE, CheckStatus.CANCELLED}
    ),
    CheckStatus.OVERDUE: frozenset(
        {CheckStatus.SCHEDULED, CheckStatus.ON_HOLD, CheckStatus.DONE, CheckStatus.CANCELLED}
    ),
    CheckStatus.ON_HOLD: frozenset(
        {CheckStatus.SCHEDULED, CheckStatus.OVERDUE, CheckStatus.DONE, CheckStatus.CANCELLED}
    ),
    # A cancelled check comes back when a re-plan needs it again (same plan key, no duplicate).
    CheckStatus.CANCELLED: frozenset({CheckStatus.SCHEDULED, CheckStatus.ON_HOLD}),
    CheckStatus.DONE: frozenset(),
}

OPEN_CHECK_STATUSES = (CheckStatus.SCHEDULED, CheckStatus.OVERDUE, CheckStatus.ON_HOLD)


class LifecycleConflict(ValidationError):
    """The object's current state does not allow the action (the API answers 409)."""


def ensure_course_transition(current: str, target: str) -> None:
    if target not in COURSE_TRANSITIONS[current]:
        raise LifecycleConflict(
            {
                "status": f"A {CourseStatus(current).label.lower()} course cannot become "
                f"{CourseStatus(target).label.lower()}."
            },
            code="conflict",
        )


def ensure_check_transition(current: str, target: str) -> None:
    if current == target:
        return
    if target not in CHECK_TRANSITIONS[current]:
        raise LifecycleConflict(
            {
                "status": f"A {CheckStatus(current).label.lower()} check cannot become "
                f"{CheckStatus(target).label.lower()}."
            },
            code="conflict",
        )

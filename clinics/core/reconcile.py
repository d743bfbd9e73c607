"""Re-planning: what to write so that a course's stored checks follow a new plan.

Pure Python. Matching is by the planner's stable key, so a re-plan never duplicates a check, and
a done or sampled check is never touched.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from .planning import PlannedCheck
from .vocab import OPEN_CHECKS, SETTLED_CHECKS, CheckStatus


@dataclass(frozen=True)
class ExistingCheck:
    key: str
    status: str
    content: tuple[object, ...]  # PlannedCheck.content of the plan that last wrote it


@dataclass(frozen=True)
class Changes:
    create: tuple[PlannedCheck, ...]
    update: tuple[PlannedCheck, ...]  # an open or cancelled check whose plan changed
    cancel: tuple[str, ...]  # keys of open checks no longer needed
    unchanged: tuple[str, ...]


def reconcile(
    *,
    existing: Sequence[ExistingCheck],
    planned: Sequence[PlannedCheck],
    as_of: date,
    backfill_baseline: bool = False,
) -> Changes:
    """What to write so that a course's checks follow `planned`.

    Settled checks (done, or sampled with results pending) are never touched and never planned
    again under their key. Open checks follow
    the plan by key, and are cancelled when the plan no longer has them. New checks whose window
    closed before `as_of` are not created: re-planning adds future work, not a backlog of
    overdue checks for dates that passed before the rule or the course existed. The one
    exception is `backfill_baseline` (a course's first plan): pre-treatment screening is always
    created, so a course recorded after its start still asks for its TB, hepatitis and blood tests.
    """
    by_key = {e.key: e for e in existing}
    planned_keys = {p.key for p in planned}
    create, update, unchanged = [], [], []
    for p in planned:
        current = by_key.get(p.key)
        if current is None:
            if p.window_end >= as_of or (backfill_baseline and p.baseline):
                create.append(p)
        elif current.status in SETTLED_CHECKS:
            unchanged.append(p.key)
        elif current.status == CheckStatus.CANCELLED and p.window_end < as_of:
            unchanged.append(p.key)
        elif current.status == CheckStatus.CANCELLED or _differs(current, p):
            update.append(p)
        else:
            unchanged.append(p.key)
    cancel = tuple(
        sorted(e.key for e in existing if e.status in OPEN_CHECKS and e.key not in planned_keys)
    )
    return Changes(tuple(create), tuple(update), cancel, tuple(unchanged))


def _differs(current: ExistingCheck, p: PlannedCheck) -> bool:
    return current.content != p.content

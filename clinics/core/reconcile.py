"""Re-planning: what to write so that a course's stored checks follow a new plan.

Pure Python. Matching is by the planner's stable key, so a re-plan never duplicates a check, and
a done or sampled check is never touched. A planned check whose window closed before it could be
stored (a course entered after its start, a dose increase entered late, a roll-forward that ran
late) is never dropped in silence: it is stored as missed and one catch-up per kind asks for it
now, unless the kind was done since that window opened.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from .planning import PlannedCheck
from .vocab import OPEN_CHECKS, SETTLED_CHECKS, CheckStatus

# Kept as they are unless a changed plan opens their window again.
_CLOSED_BY_PLAN = frozenset({CheckStatus.CANCELLED, CheckStatus.MISSED})


@dataclass(frozen=True)
class ExistingCheck:
    key: str
    status: str
    content: tuple[object, ...]  # PlannedCheck.content of the plan that last wrote it

    @property
    def kind(self) -> object:
        return self.content[0]

    def window_holds(self, day: date) -> bool:
        lo, hi = self.content[2], self.content[3]
        return isinstance(lo, date) and isinstance(hi, date) and lo <= day <= hi


@dataclass(frozen=True)
class CatchUp:
    """One check due now for a kind whose planned checks were missed (oldest first)."""

    kind: str
    missed: tuple[PlannedCheck, ...]

    @property
    def key(self) -> str:
        return f"{self.kind}/catch-up+{self.missed[0].key}"

    @property
    def analytes(self) -> tuple[str, ...]:
        return tuple(sorted({a for p in self.missed for a in p.analytes}))

    def why(self, *, context: str) -> str:
        lines = [
            f"{p.due.isoformat()} (window {p.window_start.isoformat()} to "
            f"{p.window_end.isoformat()}):\n{p.why}"
            for p in self.missed
        ]
        return f"Catch-up: missed {context}, not done since.\n" + "\n".join(lines)


@dataclass(frozen=True)
class DoneBefore:
    """A planned check that staff say was done (elsewhere, before the course was entered)."""

    check: PlannedCheck
    done_on: date


@dataclass(frozen=True)
class Changes:
    create: tuple[PlannedCheck, ...]
    update: tuple[PlannedCheck, ...]  # an open or cancelled check whose plan changed
    cancel: tuple[str, ...]  # keys of open checks no longer needed
    unchanged: tuple[str, ...]
    missed: tuple[PlannedCheck, ...] = ()  # stored as MISSED
    catch_up: tuple[CatchUp, ...] = ()
    done_before: tuple[DoneBefore, ...] = ()
    # Kinds whose `done_elsewhere` date is earlier than every planned check of the kind.
    unused_done_elsewhere: tuple[str, ...] = ()


def reconcile(
    *,
    existing: Sequence[ExistingCheck],
    planned: Sequence[PlannedCheck],
    as_of: date,
    backfill_baseline: bool = False,
    last_done: Mapping[str, date] | None = None,
    done_elsewhere: Mapping[str, date] | None = None,
    find_missed: bool = True,
) -> Changes:
    """What to write so that a course's checks follow `planned`.

    Settled checks (done, or sampled with results pending) are never touched and never planned
    again under their key. Open checks follow the plan by key, and are cancelled when the plan
    no longer has them. A new check whose window is open or ahead is created. A new check whose
    window closed before `as_of` is
    - created overdue when it is pre-treatment screening of a course's first plan
      (`backfill_baseline`): TB, hepatitis and baseline bloods are asked for however late
      (unless done since, as below);
    - recorded done on `done_elsewhere[kind]` when it is the kind's last check opened by then
      (staff gave that date when entering an existing patient);
    - left out when the kind was done on or after its window's start (`last_done`, the
      course's done checks, or `done_elsewhere`);
    - otherwise missed (stored so): one catch-up per kind asks for the kind's missed checks
      now, unless an open check of the kind is in its window today (it serves). With
      `find_missed` off (a paused course) nothing is missed yet: it is found when the course
      resumes.
    """
    elsewhere = dict(done_elsewhere or {})
    last_done = dict(last_done or {})
    for kind, day in elsewhere.items():
        last_done[kind] = max(day, last_done.get(kind, day))
    by_key = {e.key: e for e in existing}
    planned_keys = {p.key for p in planned}
    create: list[PlannedCheck] = []
    update: list[PlannedCheck] = []
    unchanged: list[str] = []
    closed: list[PlannedCheck] = []
    for p in planned:
        current = by_key.get(p.key)
        if current is None:
            if p.window_end >= as_of or (backfill_baseline and p.baseline):
                create.append(p)
            else:
                closed.append(p)
        elif current.status in SETTLED_CHECKS:
            unchanged.append(p.key)
        elif current.status in _CLOSED_BY_PLAN and p.window_end < as_of:
            unchanged.append(p.key)
        elif current.status in _CLOSED_BY_PLAN or _differs(current, p):
            update.append(p)
        else:
            unchanged.append(p.key)
    done_before = _done_before(create, closed, elsewhere, as_of)
    done_keys = {d.check.key for d in done_before}

    def done_since(p: PlannedCheck) -> bool:
        return p.kind in last_done and last_done[p.kind] >= p.window_start

    create = [
        p for p in create if p.key not in done_keys and not (p.window_end < as_of and done_since(p))
    ]
    missed = [p for p in closed if p.key not in done_keys and not done_since(p)]
    if not find_missed:
        missed = []
    cancel = tuple(
        sorted(e.key for e in existing if e.status in OPEN_CHECKS and e.key not in planned_keys)
    )
    return Changes(
        create=tuple(create),
        update=tuple(update),
        cancel=cancel,
        unchanged=tuple(unchanged),
        missed=tuple(missed),
        catch_up=_catch_ups(missed, existing, create, as_of),
        done_before=done_before,
        unused_done_elsewhere=tuple(sorted(set(elsewhere) - {d.check.kind for d in done_before})),
    )


def _done_before(
    create: Sequence[PlannedCheck],
    closed: Sequence[PlannedCheck],
    done_elsewhere: Mapping[str, date],
    as_of: date,
) -> tuple[DoneBefore, ...]:
    """For each kind done elsewhere, the kind's latest new check opened by that date."""
    found = []
    for kind, done_on in sorted(done_elsewhere.items()):
        opened = [
            p for p in (*closed, *create) if p.kind == kind and p.window_start <= done_on <= as_of
        ]
        if opened:
            latest = max(opened, key=lambda p: (p.window_start, p.due, p.key))
            found.append(DoneBefore(latest, done_on))
    return tuple(found)


def _catch_ups(
    missed: Sequence[PlannedCheck],
    existing: Sequence[ExistingCheck],
    create: Sequence[PlannedCheck],
    as_of: date,
) -> tuple[CatchUp, ...]:
    serving = {e.kind for e in existing if e.status in OPEN_CHECKS and e.window_holds(as_of)}
    serving |= {p.kind for p in create if p.window_start <= as_of <= p.window_end}
    by_kind: dict[str, list[PlannedCheck]] = {}
    for p in sorted(missed, key=lambda p: (p.due, p.key)):
        if p.kind not in serving:
            by_kind.setdefault(p.kind, []).append(p)
    return tuple(CatchUp(kind, tuple(checks)) for kind, checks in sorted(by_kind.items()))


def _differs(current: ExistingCheck, p: PlannedCheck) -> bool:
    return current.content != p.content

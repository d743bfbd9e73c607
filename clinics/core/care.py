"""Care gaps: where each open check stands today, and a course's one-line summary (last done,
next due, overdue by how long), as a nurse reads them. Pure: the dates come in as arguments."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from .vocab import CareState, CheckKind, CheckStatus


def care_state(*, status: str, due_date: date, window_end: date, today: date) -> CareState | None:
    """The state of a check on `today`; None once it is done or cancelled. A window that closed
    makes the check overdue even before the periodic job has marked it so."""
    if status == CheckStatus.ON_HOLD:
        return CareState.ON_HOLD
    if status == CheckStatus.PENDING:
        return CareState.RESULTS_PENDING
    if status == CheckStatus.OVERDUE or (status == CheckStatus.SCHEDULED and window_end < today):
        return CareState.OVERDUE
    if status != CheckStatus.SCHEDULED:
        return None
    return CareState.DUE_NOW if due_date <= today else CareState.UPCOMING


@dataclass(frozen=True)
class CheckDates:
    """What the summary needs of one check."""

    kind: str
    status: str
    due_date: date
    window_end: date
    completed_on: date | None = None


@dataclass(frozen=True)
class KindSummary:
    kind: CheckKind
    last_done: date | None
    next_due: date | None
    state: CareState | None  # of the next open check
    overdue_days: int  # days since the next open check's window closed (0 when not overdue)

    def text(self) -> str:
        parts = [self.kind.label]
        parts.append(f"last done {self.last_done.isoformat()}" if self.last_done else "never done")
        if self.next_due is not None:
            parts.append(f"next due {self.next_due.isoformat()}")
        if self.state == CareState.OVERDUE:
            parts.append(f"overdue by {self.overdue_days} day{'s' * (self.overdue_days != 1)}")
        elif self.state in (CareState.DUE_NOW, CareState.ON_HOLD, CareState.RESULTS_PENDING):
            parts.append(self.state.label.lower())
        return ", ".join(parts)


@dataclass(frozen=True)
class CareSummary:
    kinds: tuple[KindSummary, ...]

    @property
    def overdue(self) -> tuple[KindSummary, ...]:
        return tuple(k for k in self.kinds if k.state == CareState.OVERDUE)

    def line(self) -> str:
        """One line, the most urgent kinds first: overdue, due now, results pending, on hold, then
        by next due."""
        return "; ".join(k.text() for k in self.kinds) or "No checks planned."


_URGENCY = {
    CareState.OVERDUE: 0,
    CareState.DUE_NOW: 1,
    CareState.RESULTS_PENDING: 2,
    CareState.ON_HOLD: 3,
    CareState.UPCOMING: 4,
}


def care_summary(checks: Iterable[CheckDates], *, today: date) -> CareSummary:
    """Per kind of check: when it was last done, when the next open one is due and how it stands;
    most urgent first."""
    last_done: dict[str, date] = {}
    next_open: dict[str, tuple[CheckDates, CareState]] = {}
    for check in checks:
        if check.status == CheckStatus.DONE and check.completed_on is not None:
            if check.kind not in last_done or check.completed_on > last_done[check.kind]:
                last_done[check.kind] = check.completed_on
            continue
        state = care_state(
            status=check.status, due_date=check.due_date, window_end=check.window_end, today=today
        )
        current = next_open.get(check.kind)
        if state is not None and (current is None or check.due_date < current[0].due_date):
            next_open[check.kind] = (check, state)
    kinds = [
        _kind_summary(kind, last_done.get(kind), next_open.get(kind), today)
        for kind in CheckKind
        if kind in last_done or kind in next_open
    ]
    kinds.sort(
        key=lambda k: (_URGENCY[k.state] if k.state else 5, k.next_due or date.max, k.kind.value)
    )
    return CareSummary(tuple(kinds))


def _kind_summary(
    kind: CheckKind,
    last_done: date | None,
    upcoming: tuple[CheckDates, CareState] | None,
    today: date,
) -> KindSummary:
    if upcoming is None:
        return KindSummary(kind, last_done, next_due=None, state=None, overdue_days=0)
    check, state = upcoming
    late = max((today - check.window_end).days, 0) if state == CareState.OVERDUE else 0
    return KindSummary(kind, last_done, next_due=check.due_date, state=state, overdue_days=late)

"""Dates and durations: the label calendar's arithmetic, and the one place that turns an instant
into a clinic's or a patient's calendar date.

Due dates are calendar days of the clinic (or the patient's own zone for reminders), never the
server's: a clinic at UTC+14 is a day ahead of one at UTC-11. Every "today" in the service comes
from `today_in`, every local time from `local`; both read the clock through `datetime.now(UTC)`,
which time-machine moves in tests.
"""

from __future__ import annotations

import re
from calendar import monthrange
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

_DURATION = re.compile(r"^(\d{1,3})([dwmy])$")


def now() -> datetime:
    """The current instant, in UTC."""
    return datetime.now(UTC)


def local(instant: datetime, zone: str) -> datetime:
    """`instant` on the wall clock of `zone` (an IANA name such as a clinic's)."""
    return instant.astimezone(ZoneInfo(zone))


def today_in(zone: str, instant: datetime | None = None) -> date:
    """The calendar date in `zone` at `instant` (default: now)."""
    return local(instant or now(), zone).date()


@dataclass(frozen=True, order=True)
class Duration:
    """An offset such as `4w` or `3m`: months and years are calendar months (label wording)."""

    amount: int
    unit: str  # d, w, m or y

    @classmethod
    def parse(cls, value: object) -> Duration:
        if isinstance(value, Duration):
            return value
        match = _DURATION.match(str(value).strip()) if isinstance(value, (str, int)) else None
        if not match:
            raise ValueError(f"{value!r} is not a duration like 4w, 12w, 3m, 1y or 30d")
        return cls(int(match.group(1)), match.group(2))

    def after(self, anchor: date) -> date:
        return _shift(anchor, self.amount, self.unit)

    def before(self, anchor: date) -> date:
        return _shift(anchor, -self.amount, self.unit)

    def days_after(self, anchor: date) -> int:
        return (self.after(anchor) - anchor).days

    def times(self, n: int) -> Duration:
        return Duration(self.amount * n, self.unit)

    def plus(self, other: Duration) -> Duration | None:
        """Sum of two offsets in the same unit (None when units differ)."""
        return Duration(self.amount + other.amount, self.unit) if self.unit == other.unit else None

    def __str__(self) -> str:
        return f"{self.amount}{self.unit}"


def _shift(anchor: date, amount: int, unit: str) -> date:
    """Calendar arithmetic as the labels mean it: "3 months" after 31 January is 30 April
    (the day is clamped to the month's end). Plain arithmetic, as the planner calls it often."""
    if unit == "d":
        return anchor + timedelta(days=amount)
    if unit == "w":
        return anchor + timedelta(weeks=amount)
    months = amount * 12 if unit == "y" else amount
    index = anchor.year * 12 + anchor.month - 1 + months
    year, month = divmod(index, 12)
    return anchor.replace(
        year=year, month=month + 1, day=min(anchor.day, monthrange(year, month + 1)[1])
    )


def working_days_after(day: date, count: int) -> date:
    """The day `count` working days (Monday to Friday) after `day`: a finding opened on a Friday
    with two working days to answer escalates on Tuesday. Public holidays are not known here."""
    while count > 0:
        day += timedelta(days=1)
        count -= day.weekday() < 5
    return day

"""Time travel for tests (time-machine): the clock stands still at a UTC instant."""

from datetime import UTC, date, datetime

import time_machine

# The tofacitinib course most tests follow starts on Monday 2 March 2026, in New York.
START = date(2026, 3, 2)


def at(*args: int) -> time_machine.travel:
    """`at(2026, 3, 2, 15)`: 15:00 UTC (10:00 in New York) on 2 March 2026, not ticking."""
    return time_machine.travel(datetime(*args, tzinfo=UTC), tick=False)

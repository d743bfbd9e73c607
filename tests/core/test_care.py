"""Care states and the one-line summary, pure: every open check is in exactly one state."""

from datetime import date, timedelta

import pytest

from clinics.core.care import CheckDates, care_state, care_summary
from clinics.core.vocab import CareState, CheckStatus

TODAY = date(2026, 12, 3)
DUE, END = date(2026, 11, 21), date(2026, 12, 5)  # the demo's bloods: due 21 Nov, window to 5 Dec


@pytest.mark.parametrize(
    "status,due,end,state",
    [
        (CheckStatus.SCHEDULED, TODAY + timedelta(days=1), END, CareState.UPCOMING),
        (CheckStatus.SCHEDULED, TODAY, TODAY, CareState.DUE_NOW),
        (CheckStatus.SCHEDULED, DUE, END, CareState.DUE_NOW),  # past due, window open
        (CheckStatus.SCHEDULED, DUE, TODAY - timedelta(days=1), CareState.OVERDUE),  # not marked
        (CheckStatus.OVERDUE, DUE, TODAY - timedelta(days=1), CareState.OVERDUE),
        (CheckStatus.ON_HOLD, DUE, TODAY - timedelta(days=1), CareState.ON_HOLD),
        (CheckStatus.DONE, DUE, END, None),
        (CheckStatus.CANCELLED, DUE, END, None),
    ],
)
def test_care_state(status, due, end, state):
    assert care_state(status=status, due_date=due, window_end=end, today=TODAY) == state


def test_summary_says_last_done_next_due_and_how_late_most_urgent_first():
    checks = [
        CheckDates("cbc", CheckStatus.DONE, date(2026, 9, 1), date(2026, 9, 15), date(2026, 9, 3)),
        CheckDates("cbc", CheckStatus.DONE, date(2026, 6, 1), date(2026, 6, 15), date(2026, 6, 2)),
        CheckDates("cbc", CheckStatus.SCHEDULED, DUE, END),
        CheckDates("cbc", CheckStatus.SCHEDULED, date(2027, 2, 1), date(2027, 2, 15)),
        CheckDates("lipids", CheckStatus.OVERDUE, date(2026, 11, 1), date(2026, 11, 20)),
        CheckDates("liver", CheckStatus.SCHEDULED, date(2027, 1, 4), date(2027, 1, 18)),
        CheckDates("renal", CheckStatus.CANCELLED, date(2027, 1, 4), date(2027, 1, 18)),
        CheckDates("tb", CheckStatus.DONE, date(2026, 3, 2), date(2026, 3, 2), date(2026, 2, 20)),
    ]
    summary = care_summary(checks, today=TODAY)
    assert summary.line() == (
        "Lipid panel, never done, next due 2026-11-01, overdue by 13 days; "
        "Full blood count, last done 2026-09-03, next due 2026-11-21, due now; "
        "Liver function, never done, next due 2027-01-04; "
        "Tuberculosis screening, last done 2026-02-20"
    )
    assert [k.kind for k in summary.overdue] == ["lipids"]


def test_summary_of_nothing_says_so():
    assert care_summary([], today=TODAY).line() == "No checks planned."

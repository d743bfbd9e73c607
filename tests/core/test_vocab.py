"""The vocabulary: outcome severity and which outcomes alert staff, named check sets, task names."""

from pathlib import Path

import pytest

import clinics
from clinics.core.vocab import (
    OPEN_CHECKS,
    STAFF_PAUSE_REASONS,
    TO_DO_CHECKS,
    CheckStatus,
    OutcomeAction,
    PauseReason,
    RuleAction,
    TaskName,
)


def test_outcomes_in_order_of_severity():
    assert [a.severity for a in OutcomeAction] == [0, 1, 2, 3, 4]
    assert OutcomeAction.DISCONTINUE.severity > OutcomeAction.INTERRUPT.severity


@pytest.mark.parametrize(
    ("action", "alerts"),
    [
        (OutcomeAction.NONE, False),
        (OutcomeAction.ADVISE, False),
        (OutcomeAction.DO_NOT_START, False),
        (OutcomeAction.INTERRUPT, True),
        (OutcomeAction.DISCONTINUE, True),
    ],
)
def test_which_outcomes_alert_staff(action, alerts):
    assert action.alerts_staff is alerts


def test_a_resume_rule_only_advises():
    assert OutcomeAction.of_rule(RuleAction.RESUME) is OutcomeAction.ADVISE
    assert OutcomeAction.of_rule(RuleAction.INTERRUPT) is OutcomeAction.INTERRUPT


def test_named_check_sets():
    assert TO_DO_CHECKS == {CheckStatus.SCHEDULED, CheckStatus.OVERDUE}
    assert OPEN_CHECKS == TO_DO_CHECKS | {CheckStatus.ON_HOLD}


def test_staff_do_not_pause_for_an_infection():
    assert PauseReason.INFECTION not in STAFF_PAUSE_REASONS
    assert set(STAFF_PAUSE_REASONS) == set(PauseReason) - {PauseReason.INFECTION}


def test_codes_keep_their_labels_and_compare_as_text():
    assert CheckStatus.ON_HOLD == "on_hold"
    assert CheckStatus("on_hold").label == "On hold (course paused)"
    assert ("on_hold", "On hold (course paused)") in CheckStatus.choices()


def test_every_task_name_is_a_task(settings):
    from celery import Task

    from clinics import tasks

    registered = {t.name for t in vars(tasks).values() if isinstance(t, Task)}
    assert registered == {t.value for t in TaskName}


def test_one_clock():
    """Only `core/dates.py` turns an instant into a date (no server-date shortcuts elsewhere)."""
    root = Path(clinics.__file__).parent
    offenders = [
        str(path.relative_to(root))
        for path in root.rglob("*.py")
        if "migrations" not in path.parts
        and path != root / "core" / "dates.py"
        and any(
            s in path.read_text() for s in ("date.today()", "timezone.localdate(", "localtime(")
        )
    ]
    assert offenders == []

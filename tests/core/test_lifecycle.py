"""Status transitions are decided in one table (clinics.lifecycle)."""

import pytest

from clinics.core.vocab import (
    CheckStatus,
    CourseStatus,
    LifecycleConflict,
    ensure_check_transition,
    ensure_course_transition,
)

ALLOWED_COURSE = {
    ("planned", "active"),
    ("planned", "paused"),
    ("planned", "stopped"),
    ("active", "paused"),
    ("active", "stopped"),
    ("paused", "active"),
    ("paused", "planned"),
    ("paused", "stopped"),
}


@pytest.mark.parametrize("current", CourseStatus.values())
@pytest.mark.parametrize("target", CourseStatus.values())
def test_course_transitions(current, target):
    if (current, target) in ALLOWED_COURSE:
        ensure_course_transition(current, target)
    else:
        with pytest.raises(LifecycleConflict) as err:
            ensure_course_transition(current, target)
        assert "status" in err.value.message_dict


@pytest.mark.parametrize("target", CheckStatus.values())
def test_done_check_is_final(target):
    if target == CheckStatus.DONE:
        ensure_check_transition(CheckStatus.DONE, target)
    else:
        with pytest.raises(LifecycleConflict):
            ensure_check_transition(CheckStatus.DONE, target)


def test_cancelled_check_can_come_back_but_not_be_completed():
    ensure_check_transition(CheckStatus.CANCELLED, CheckStatus.SCHEDULED)
    with pytest.raises(LifecycleConflict):
        ensure_check_transition(CheckStatus.CANCELLED, CheckStatus.DONE)

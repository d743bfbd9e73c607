"""Periodic plan maintenance: planned courses become active on their start date, and plans roll
forward so there are always checks planned up to the horizon."""

from datetime import UTC, date, datetime

import time_machine

from clinics.core.vocab import CourseStatus
from clinics.models import Drug
from clinics.services.courses import course_start
from clinics.tasks import activate_started_courses, roll_plans_forward


def test_planned_course_becomes_active_in_clinic_time(patient):
    with time_machine.travel(datetime(2026, 3, 1, 12, tzinfo=UTC), tick=False):
        course = course_start(
            patient=patient,
            drug=Drug.objects.get(code="upadacitinib"),
            dose_code="15mg-qd",
            indication="ra",
            start_date=date(2026, 3, 2),
        ).course
    assert course.status == CourseStatus.PLANNED
    # 03:00 UTC on 2 March is still 1 March in New York (the clinic's zone): not yet.
    with time_machine.travel(datetime(2026, 3, 2, 3, tzinfo=UTC), tick=False):
        assert activate_started_courses() == 0
    with time_machine.travel(datetime(2026, 3, 2, 6, tzinfo=UTC), tick=False):
        assert activate_started_courses() == 1
        assert activate_started_courses() == 0
    course.refresh_from_db()
    assert course.status == CourseStatus.ACTIVE


def test_plans_roll_forward_as_time_passes(patient):
    with time_machine.travel(datetime(2026, 1, 5, 15, tzinfo=UTC), tick=False):
        course = course_start(
            patient=patient,
            drug=Drug.objects.get(code="tofacitinib"),
            dose_code="5mg-bid",
            indication="ra",
            start_date=date(2026, 1, 5),
        ).course
        assert roll_plans_forward() == 0  # just planned: nothing to add
    last = course.checks.latest("due_date").due_date
    assert last <= date(2028, 1, 5)
    with time_machine.travel(datetime(2026, 1, 11, 15, tzinfo=UTC), tick=False):
        assert roll_plans_forward() == 0  # less than a week behind
    with time_machine.travel(datetime(2026, 7, 5, 15, tzinfo=UTC), tick=False):
        assert roll_plans_forward() == 1
        assert roll_plans_forward() == 0
    assert course.checks.latest("due_date").due_date > date(2028, 5, 1)
    keys = list(course.checks.values_list("plan_key", flat=True))
    assert len(keys) == len(set(keys))

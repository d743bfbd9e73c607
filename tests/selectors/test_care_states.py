"""The worklists are the care states: every open check past its due date is on exactly one staff
list (due now, overdue, or on hold through its paused course), whether or not the periodic job
has marked it overdue yet; the patient page and the digest say the same."""

from datetime import date

from clinics.core.care import care_state
from clinics.core.vocab import OPEN_CHECKS, CareState, CheckStatus
from clinics.models import Message
from clinics.selectors.patients import patient_overview
from clinics.selectors.worklists import (
    checks_due_now,
    checks_due_this_week,
    overdue_checks,
    paused_courses,
)
from clinics.services.checks import check_complete, checks_mark_overdue
from clinics.services.courses import course_pause
from clinics.services.digests import overdue_digests_queue
from clinics.services.staff import staff_member_add
from tests.support.clock import at
from tests.support.factories import without_values


def lists_of(check, course) -> list[str]:
    on = [
        name
        for name, rows in (
            ("due_now", checks_due_now()),
            ("overdue", overdue_checks()),
            ("this_week", checks_due_this_week()),
        )
        if rows.filter(pk=check.pk).exists()
    ]
    return on + (["paused"] if paused_courses().filter(pk=course.pk).exists() else [])


def assert_each_open_check_on_its_list(course, today):
    for check in course.checks.filter(status__in=OPEN_CHECKS):
        state = care_state(
            status=check.status, due_date=check.due_date, window_end=check.window_end, today=today
        )
        expected = {
            CareState.DUE_NOW: ["due_now"],
            CareState.OVERDUE: ["overdue"],
            CareState.ON_HOLD: ["paused"],
            CareState.UPCOMING: ["this_week"] if (check.due_date - today).days <= 6 else [],
        }[state]
        assert lists_of(check, course) == expected, (check.plan_key, state)


def test_a_check_past_due_with_its_window_open_is_due_now(course):
    with at(2026, 4, 6, 15):  # New York: 6 April; the 4-week bloods were due 30 March
        for check in course.checks.filter(plan_key__endswith="baseline"):
            check_complete(check=check, completed_on=date(2026, 3, 2), **without_values(check))
        liver = course.checks.get(plan_key="liver/start+4w")
        assert (liver.due_date, liver.window_end) == (date(2026, 3, 30), date(2026, 4, 13))
        assert lists_of(liver, course) == ["due_now"]
        assert_each_open_check_on_its_list(course, date(2026, 4, 6))


def test_a_closed_window_is_overdue_before_and_after_the_job_marks_it(course):
    with at(2026, 4, 15, 15):
        assert_each_open_check_on_its_list(course, date(2026, 4, 15))
        liver = course.checks.get(plan_key="liver/start+4w")
        assert lists_of(liver, course) == ["overdue"]  # window ended 13 April, not yet marked
        # The eight baseline checks (due on the start date) and the liver and renal 4-week
        # checks (windows ended 13 April); the CBC and lipid windows run to 27 April.
        assert checks_mark_overdue() == 10
        assert lists_of(liver, course) == ["overdue"]
        assert_each_open_check_on_its_list(course, date(2026, 4, 15))


def test_a_paused_course_s_checks_are_on_hold_and_only_on_the_paused_list(course):
    with at(2026, 4, 6, 15):
        course_pause(course=course, reason="clinician")
        assert_each_open_check_on_its_list(course, date(2026, 4, 6))
        open_statuses = course.checks.filter(status__in=OPEN_CHECKS).values_list(
            "status", flat=True
        )
        assert set(open_statuses) == {CheckStatus.ON_HOLD}


def test_patient_page_summary_and_states(course):
    with at(2026, 4, 6, 15):
        for check in course.checks.filter(plan_key__endswith="baseline"):
            check_complete(check=check, completed_on=date(2026, 3, 2), **without_values(check))
        overview = patient_overview(course.patient)
    line = overview.summary.line()
    assert line.startswith("Full blood count, last done 2026-03-02, next due 2026-03-30, due now")
    assert "Liver function, last done 2026-03-02, next due 2026-03-30, due now" in line
    states = {row.check.plan_key: row.state for row in overview.open_checks}
    assert states["liver/start+4w"] == CareState.DUE_NOW
    assert {state for key, state in states.items() if key != "liver/start+4w"} == {
        CareState.DUE_NOW,
        CareState.UPCOMING,
    }


def test_digest_lists_due_now_and_overdue(course):
    staff_member_add(
        clinic=course.patient.clinic,
        username="nurse",
        email="nurse@example.org",
        role="clinician",
        password="a-long-test-password",
    )
    with at(2026, 4, 6, 15):
        assert overdue_digests_queue() == 1
    digest = Message.objects.get(kind="overdue_digest")
    due_now = {row["kind"] for row in digest.context["due_now"]}
    overdue = {row["kind"] for row in digest.context["overdue"]}
    assert due_now == {"Full blood count", "Lipid panel", "Liver function", "Renal function"}
    # The baseline checks (none recorded) are overdue; the 4-week bloods are due now.
    assert len(digest.context["overdue"]) == 8 and "Tuberculosis screening" in overdue
    assert digest.subject == (
        "Monitoring worklist 2026-04-06: 0 findings to decide, 4 due now, 8 overdue"
    )

"""Sample taken, results pending: the check leaves the to-do lists and the patient's reminders,
waits on the results pending list, is never moved by a re-plan, and is done once its results
are recorded. Bad dates name the field and change nothing."""

from datetime import UTC, date, datetime, time, timedelta

import pytest
from django.core.exceptions import ValidationError

from clinics.core.vocab import CareState, CheckStatus, LifecycleConflict, StopReason
from clinics.selectors.patients import patient_overview
from clinics.selectors.reminders import reminders_due
from clinics.selectors.worklists import checks_due_now, checks_results_pending, overdue_checks
from clinics.services.checks import check_complete, check_sample_lost, check_sample_taken
from clinics.services.courses import course_pause, course_resume, course_stop
from clinics.services.results import ResultInput, lab_result_record
from tests.support.clock import START, at
from tests.support.factories import without_values


@pytest.fixture
def sampled(course):
    """Liver 4-week check (due 30 March, window to 13 April): its sample taken on 6 April (the
    baseline liver tests done on the start date)."""
    with at(2026, 4, 6, 15):
        check_complete(
            check=course.checks.get(plan_key="liver/baseline"),
            completed_on=START,
            **without_values(course.checks.get(plan_key="liver/baseline")),
        )
        liver = course.checks.get(plan_key="liver/start+4w")
        assert checks_due_now().filter(pk=liver.pk).exists()
        return check_sample_taken(check=liver, sampled_on=date(2026, 4, 6))


def test_sample_taken_moves_the_check_to_results_pending(sampled):
    assert (sampled.status, sampled.sampled_on) == (CheckStatus.PENDING, date(2026, 4, 6))
    with at(2026, 4, 20, 15):  # its window has closed: still pending, not overdue
        assert list(checks_results_pending()) == [sampled]
        assert not checks_due_now().filter(pk=sampled.pk).exists()
        overview = patient_overview(sampled.course.patient)
        assert {r.check.pk: r.state for r in overview.open_checks}[sampled.pk] == (
            CareState.RESULTS_PENDING
        )
        assert "Liver function, last done 2026-03-02, next due 2026-03-30, results pending" in (
            overview.summary.line()
        )


def test_no_reminder_goes_out_for_a_sampled_check(course):
    """The 3-month blood count sampled early: when its reminder would go out, none does."""
    cbc = course.checks.get(plan_key="cbc/start+3m")
    moment = datetime.combine(cbc.due_date - timedelta(days=7), time(14), UTC)  # 09:00 or 10:00
    assert cbc.pk in {c.pk for group in reminders_due(now=moment).values() for c in group}
    with at(2026, 4, 6, 15):
        check_sample_taken(check=cbc, sampled_on=date(2026, 4, 6))
    assert cbc.pk not in {c.pk for group in reminders_due(now=moment).values() for c in group}


def test_a_pause_and_resume_leave_a_sampled_check_where_it_is(sampled):
    course = sampled.course
    with at(2026, 4, 7, 15):
        course_pause(course=course, reason="clinician")
        sampled.refresh_from_db()
        assert sampled.status == CheckStatus.PENDING
    with at(2026, 4, 21, 15):
        course_resume(course=course, resumed_on=date(2026, 4, 21))
    sampled.refresh_from_db()
    assert (sampled.status, sampled.due_date) == (CheckStatus.PENDING, date(2026, 3, 30))


def test_results_complete_a_pending_check_and_leave_the_list(sampled):
    with at(2026, 4, 9, 15):
        done = check_complete(
            check=sampled,
            completed_on=sampled.sampled_on,
            results=[ResultInput("alt", "0.5", "xuln"), ResultInput("ast", "0.6", "xuln")],
        )
        assert done.check.status == CheckStatus.DONE and done.check.completed_on == date(2026, 4, 6)
        assert not checks_results_pending().exists()
    assert done.check.results.count() == 2


@pytest.mark.parametrize(
    "day,words", [(date(2026, 4, 7), "future"), (date(2025, 1, 1), "course starts")]
)
def test_bad_sample_dates_name_the_field_and_change_nothing(course, day, words):
    with at(2026, 4, 6, 15):
        liver = course.checks.get(plan_key="liver/start+4w")
        with pytest.raises(ValidationError) as err:
            check_sample_taken(check=liver, sampled_on=day)
    assert list(err.value.message_dict) == ["sampled_on"] and words in str(err.value)
    liver.refresh_from_db()
    assert liver.status == CheckStatus.SCHEDULED and liver.sampled_on is None


def test_a_sample_cannot_be_taken_twice(sampled):
    with at(2026, 4, 7, 15), pytest.raises(LifecycleConflict):
        check_sample_taken(check=sampled, sampled_on=date(2026, 4, 7))


def test_a_lost_sample_puts_the_check_back_on_the_lists(sampled):
    with at(2026, 4, 8, 15):
        again = check_sample_lost(check=sampled)
        assert (again.status, again.sampled_on) == (CheckStatus.SCHEDULED, None)
        assert checks_due_now().filter(pk=sampled.pk).exists()  # window still open (13 April)
        with pytest.raises(LifecycleConflict):
            check_sample_lost(check=again)
    with at(2026, 4, 15, 15):
        assert overdue_checks().filter(pk=sampled.pk).exists()


def test_results_of_a_sample_taken_before_the_course_stopped_are_still_recorded(sampled):
    """The course stops while the sample waits: its results are still evaluated (it was taken on
    the drug) and the check leaves the results pending list; a sample after the stop is not."""
    course = sampled.course
    with at(2026, 4, 8, 15):
        course_stop(course=course, reason=StopReason.PATIENT_CHOICE, stopped_on=date(2026, 4, 7))
        assert list(checks_results_pending()) == [sampled]
        done = check_complete(
            check=sampled,
            completed_on=date(2026, 4, 6),
            results=[ResultInput("alt", "3.5", "xULN"), ResultInput("ast", "0.5", "xULN")],
        )
        assert done.check.status == CheckStatus.DONE
        assert not checks_results_pending().exists()
        assert done.results[0].result.finding is not None  # beyond a threshold: a clinician decides
        course.refresh_from_db()
        with pytest.raises(ValidationError) as refused:
            lab_result_record(
                course=course,
                analyte="alt",
                value="0.5",
                unit="xULN",
                collected_on=date(2026, 4, 8),
            )
        assert "stopped on 2026-04-07" in refused.value.message_dict["collected_on"][0]

"""Existing patients and late plans: a planned check whose window closed before it was stored is
never dropped in silence. It is stored as missed, and one catch-up per kind is due now, unless the
kind was done since (staff give the last date each kind was done when entering the course)."""

from datetime import UTC, date, datetime

import pytest
import time_machine
from django.core.exceptions import ValidationError

from clinics.core.vocab import CheckOrigin, CheckStatus
from clinics.models import Drug, MonitoringCheck
from clinics.selectors.patients import course_care_summary
from clinics.selectors.starts import course_start_preview
from clinics.selectors.worklists import checks_due_now
from clinics.services.courses import course_resume, course_start
from clinics.services.infections import infection_report, infection_resolve
from clinics.services.replanning import course_replan, plans_roll_forward
from tests.support.factories import infection_facts

TODAY = date(2026, 12, 3)
MAY = date(2026, 5, 4)  # on tofacitinib since May, entered in December


@pytest.fixture
def travel():
    with time_machine.travel(datetime(2026, 12, 3, 15, 0, tzinfo=UTC), tick=False) as traveller:
        yield traveller


def enter(patient, **kwargs):
    kwargs.setdefault("start_date", MAY)
    return course_start(
        patient=patient,
        drug=Drug.objects.get(code="tofacitinib"),
        dose_code="5mg-bid",
        indication="ra",
        **kwargs,
    )


def test_existing_patient_gets_one_catch_up_per_missed_kind_due_now(travel, patient):
    started = enter(patient)
    course = started.course
    missed = course.checks.filter(status=CheckStatus.MISSED)
    catch_ups = course.checks.filter(origin=CheckOrigin.CATCH_UP)
    assert missed.exists()
    missed_kinds = set(missed.values_list("kind", flat=True))
    assert sorted(catch_ups.values_list("kind", flat=True)) == sorted(missed_kinds)
    assert started.catch_ups == catch_ups.count()
    for catch_up in catch_ups:
        assert (catch_up.status, catch_up.due_date) == (CheckStatus.SCHEDULED, TODAY)
        assert catch_up.window_end == date(2026, 12, 17)  # the protocol's catch_up_within: 2w
        assert "missed before the course was entered" in catch_up.why
        kind_missed = missed.filter(kind=catch_up.kind)
        for row in kind_missed:  # each missed check named with its dates and rule
            assert row.due_date.isoformat() in catch_up.why and row.rule_ids[0] in catch_up.why
        assert set(catch_up.analytes) == {a for row in kind_missed for a in row.analytes}
    # Every closed planned window is accounted for: missed (caught up), baseline overdue, or open.
    for row in course.checks.filter(origin=CheckOrigin.PLAN, window_end__lt=TODAY):
        assert row.status in (CheckStatus.MISSED, CheckStatus.OVERDUE)
    assert set(checks_due_now().filter(course=course)) >= set(catch_ups)
    # A re-plan (the next day, and again) writes nothing new: no second catch-up, no duplicate.
    before = set(course.checks.values_list("plan_key", "status"))
    travel.move_to(datetime(2026, 12, 4, 15, 0, tzinfo=UTC))
    changes = course_replan(course=course)
    assert not changes.create and not changes.catch_up and not changes.missed
    assert set(course.checks.values_list("plan_key", "status")) == before


def test_last_done_dates_cover_earlier_checks_and_are_recorded_as_done_elsewhere(travel, patient):
    started = enter(patient, done_elsewhere={"cbc": date(2026, 11, 20)})
    course = started.course
    done = course.checks.get(kind="cbc", status=CheckStatus.DONE)
    assert done.completed_on == date(2026, 11, 20)
    assert set(done.results_missing.values()) == {"done_elsewhere"}
    assert done.window_start <= date(2026, 11, 20)
    # No blood count is missed: every earlier one counts as done, none asks to be caught up.
    assert not course.checks.filter(kind="cbc", status=CheckStatus.MISSED).exists()
    assert not course.checks.filter(kind="cbc", origin=CheckOrigin.CATCH_UP).exists()
    assert not course.checks.filter(kind="cbc", plan_key="cbc/baseline").exists()
    # Other kinds without a date are still caught up.
    assert course.checks.filter(kind="liver", origin=CheckOrigin.CATCH_UP).exists()
    line = {k.kind: k for k in course_care_summary(course, today=TODAY).kinds}["cbc"]
    assert line.last_done == date(2026, 11, 20)


def test_preview_says_what_is_caught_up_and_writes_nothing(travel, patient):
    preview = course_start_preview(
        patient=patient,
        drug=Drug.objects.get(code="tofacitinib"),
        dose_code="5mg-bid",
        indication="ra",
        start_date=MAY,
        done_elsewhere={"cbc": date(2026, 11, 20), "tb": date(2020, 1, 1)},
    )
    kinds = {c.kind for c in preview.catch_up}
    assert "liver" in kinds and "cbc" not in kinds
    assert [d.check.kind for d in preview.done_elsewhere] == ["cbc"]
    assert preview.unused_done_elsewhere == ("tb",)  # before the baseline window: not used
    assert "tb/baseline" in {c.key for c in preview.checks}  # so TB screening is still asked for
    assert not MonitoringCheck.objects.exists() and not patient.courses.exists()


@pytest.mark.parametrize(
    "kwargs,field",
    [
        ({"done_elsewhere": {"cbc": date(2026, 12, 10)}}, "done_elsewhere[cbc]"),
        ({"done_elsewhere": {"xray": date(2026, 11, 1)}}, "done_elsewhere[xray]"),
        (
            {"start_date": date(2027, 1, 4), "done_elsewhere": {"cbc": date(2026, 11, 1)}},
            "done_elsewhere[cbc]",
        ),
    ],
)
def test_bad_last_done_dates_name_the_field_and_store_nothing(travel, patient, kwargs, field):
    with pytest.raises(ValidationError) as err:
        enter(patient, **kwargs)
    assert field in err.value.message_dict
    assert not patient.courses.exists() and not MonitoringCheck.objects.exists()


def test_a_late_roll_forward_catches_up_instead_of_dropping(patient, settings):
    """The service was down past the plan's horizon: the checks it never stored are caught up."""
    settings.JAKMONITOR = {**settings.JAKMONITOR, "PLAN_HORIZON_MONTHS": 3}
    with time_machine.travel(datetime(2026, 3, 2, 15, 0, tzinfo=UTC), tick=False) as traveller:
        course = enter(patient, start_date=date(2026, 3, 2)).course
        assert not course.checks.filter(origin=CheckOrigin.CATCH_UP).exists()
        course.refresh_from_db()
        planned_until = course.planned_until
        traveller.move_to(datetime(2026, 10, 1, 15, 0, tzinfo=UTC))  # months without a roll
        assert plans_roll_forward() == 1
        course.refresh_from_db()
        assert course.planned_until > planned_until
        missed = course.checks.filter(status=CheckStatus.MISSED)
        assert missed.exists() and all(m.window_end < date(2026, 10, 1) for m in missed)
        catch_ups = course.checks.filter(origin=CheckOrigin.CATCH_UP)
        assert set(catch_ups.values_list("kind", flat=True)) == set(
            missed.values_list("kind", flat=True)
        )
        assert all("missed before it was planned" in c.why for c in catch_ups)
        assert all(c.due_date == date(2026, 10, 1) for c in catch_ups)


def test_catch_ups_hold_while_paused_and_come_back_on_resume(travel, patient):
    course = enter(patient).course
    catch_ups = course.checks.filter(origin=CheckOrigin.CATCH_UP)
    assert catch_ups.exists()
    reported = infection_report(
        course=course, **infection_facts(course), serious=False, reporter="staff", description=""
    )
    assert set(catch_ups.values_list("status", flat=True)) == {CheckStatus.ON_HOLD}
    travel.move_to(datetime(2026, 12, 10, 15, 0, tzinfo=UTC))
    infection_resolve(report=reported.report, outcome="recovered")
    course_resume(course=course)
    assert set(catch_ups.values_list("status", flat=True)) == {CheckStatus.SCHEDULED}
    assert not course.checks.filter(status=CheckStatus.ON_HOLD).exists()

"""Lifecycle services: start, complete with results, infection pause, resolve and resume,
dose change, stop. Each is one transaction; bad input names the field and changes nothing."""

import uuid
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from clinics.core.vocab import CheckStatus, CourseStatus, LifecycleConflict
from clinics.models import Drug, LabResult, MonitoringCheck
from clinics.services.checks import check_complete
from clinics.services.courses import (
    course_change_dose,
    course_mark_dose_stable,
    course_resume,
    course_start,
    course_stop,
)
from clinics.services.infections import infection_report, infection_resolve
from clinics.services.results import ResultInput, lab_result_record
from clinics.services.seeds import rules_load
from tests.support.factories import PatientFactory, infection_facts, without_values
from tests.support.seed_edits import copy_seeds, edit_yaml, rule_in

NOW = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)  # 10:00 in New York


@pytest.fixture
def travel():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def start(patient, drug="tofacitinib", dose="5mg-bid", indication="ra", on=date(2026, 3, 2), **kw):
    return course_start(
        patient=patient,
        drug=Drug.objects.get(code=drug),
        dose_code=dose,
        indication=indication,
        start_date=on,
        **kw,
    )


def test_start_plans_checks_with_why(travel, patient):
    started = start(patient)
    course = started.course
    assert course.status == CourseStatus.ACTIVE
    keys = set(course.checks.values_list("plan_key", flat=True))
    assert {"cbc/baseline", "tb/baseline", "cbc/start+4w", "skin_exam/start+1y"} <= keys
    assert started.checks_planned == course.checks.count()
    cbc = course.checks.get(plan_key="cbc/start+4w")
    assert "tofacitinib.cbc.anc-hb" in cbc.rule_ids and "Xeljanz" in cbc.why


def test_future_start_is_planned_and_dose_advice_returned(travel, patient):
    started = start(
        patient,
        on=date(2026, 4, 1),
        renal_value=Decimal("40"),
        renal_measure="crcl",
    )
    assert started.course.status == CourseStatus.PLANNED
    assert [a.rule_id for a in started.advice] == ["tofacitinib.renal.moderate.us"]


@pytest.mark.parametrize(
    "kwargs,field",
    [
        ({"dose": "7mg"}, "dose_code"),
        ({"indication": "gout"}, "indication"),
        ({"dose": "10mg-bid"}, "dose_code"),  # a UC-only dose for RA
        ({"renal_value": Decimal("40")}, "renal_measure"),
        ({"on": date(1960, 1, 1)}, "start_date"),
    ],
)
def test_start_rejects_bad_input_naming_the_field(travel, patient, kwargs, field):
    with pytest.raises(ValidationError) as err:
        start(patient, **kwargs)
    assert field in err.value.message_dict
    assert not patient.courses.exists() and not MonitoringCheck.objects.exists()


def test_drug_without_label_in_jurisdiction_is_refused(travel, patient):
    with pytest.raises(ValidationError) as err:
        start(patient, drug="filgotinib", dose="200mg-qd")
    assert "drug" in err.value.message_dict


def test_one_open_course_per_patient(travel, patient):
    start(patient)
    with pytest.raises(LifecycleConflict):
        start(patient, drug="baricitinib", dose="2mg-qd-us")


def test_complete_check_records_and_evaluates_results(travel, patient):
    course = start(patient).course
    check = course.checks.get(plan_key="cbc/baseline")
    done = check_complete(
        check=check,
        completed_on=date(2026, 3, 1),
        results=[
            ResultInput("alc", "0.4", "10^9/L"),
            ResultInput("anc", "2500", "cells/mm3"),
            ResultInput("hb", "12", "g/dL"),
        ],
    )
    check.refresh_from_db()
    assert check.status == CheckStatus.DONE and check.completed_on == date(2026, 3, 1)
    assert done.action == "do_not_start"  # collected before the first dose: baseline rules speak
    alc = LabResult.objects.get(analyte="alc")
    assert (
        alc.outcome_action == "do_not_start"
        and alc.outcome[0]["rule_id"] == "tofacitinib.alc.no-start.us"
    )
    on_drug = lab_result_record(
        course=course, analyte="alc", value="0.4", unit="10^9/L", collected_on=date(2026, 3, 2)
    )
    assert on_drug.outcome.action == "discontinue"
    assert on_drug.outcome.findings[0].rule_id == "tofacitinib.alc.discontinue"


def test_bad_result_leaves_check_open_and_stores_nothing(travel, patient):
    check = start(patient).course.checks.get(plan_key="cbc/baseline")
    with pytest.raises(ValidationError) as err:
        check_complete(
            check=check,
            completed_on=date(2026, 3, 1),
            results=[
                ResultInput("anc", "2.0", "10^9/L"),
                ResultInput("hb", "12", "mmHg"),
            ],
            missing={"alc": "not_done"},
        )
    assert "results[1].unit" in err.value.message_dict
    check.refresh_from_db()
    assert check.status == CheckStatus.SCHEDULED and not LabResult.objects.exists()


def test_hb_drop_uses_previous_result(travel, patient):
    course = start(patient).course
    lab_result_record(
        course=course, analyte="hb", value="13.5", unit="g/dL", collected_on=date(2026, 3, 1)
    )
    second = lab_result_record(
        course=course, analyte="hb", value="112", unit="g/L", collected_on=date(2026, 3, 2)
    )
    assert second.outcome.action == "interrupt"
    assert [f.rule_id for f in second.outcome.findings] == ["tofacitinib.hb.drop"]


def test_infection_pauses_and_holds_then_resume_replans(travel, patient):
    course = start(patient, on=date(2026, 2, 2)).course
    four_weeks = course.checks.get(plan_key="cbc/start+4w")
    reported = infection_report(
        course=course,
        **infection_facts(course),
        serious=True,
        reporter="patient",
        description="fever",
    )
    course.refresh_from_db()
    assert course.status == CourseStatus.PAUSED
    assert not course.checks.filter(
        status__in=[CheckStatus.SCHEDULED, CheckStatus.OVERDUE]
    ).exists()
    assert [r.action for r in reported.rules] == ["interrupt"]
    with pytest.raises(LifecycleConflict):
        course_resume(course=course)
    travel.move_to(datetime(2026, 3, 16, 15, tzinfo=UTC))
    infection_resolve(report=reported.report, outcome="recovered")
    course_resume(course=course)
    course.refresh_from_db()
    moved = course.checks.get(plan_key="cbc/start+4w")
    assert course.status == CourseStatus.ACTIVE
    assert moved.pk == four_weeks.pk and moved.due_date == date(2026, 3, 16)  # 2 weeks later
    assert moved.status == CheckStatus.SCHEDULED and moved.sequence > four_weeks.sequence


def test_stop_cancels_open_checks_and_keeps_done(travel, patient):
    course = start(patient).course
    check_complete(
        check=course.checks.get(plan_key="tb/baseline"),
        completed_on=date(2026, 2, 20),
        **without_values(course.checks.get(plan_key="tb/baseline")),
    )
    course_stop(course=course, reason="adverse_event", note="nausea")
    statuses = set(course.checks.values_list("status", flat=True))
    assert statuses == {CheckStatus.DONE, CheckStatus.CANCELLED}
    with pytest.raises(LifecycleConflict):
        course_resume(course=course)
    with pytest.raises(ValidationError) as err:
        course_stop(course=course, reason="bored")
    assert "stop_reason" in err.value.message_dict


def test_dose_increase_adds_abrocitinib_dose_checks_without_renaming_others(travel, patient):
    course = start(patient, drug="abrocitinib", dose="100mg-qd", indication="ad").course
    before = set(course.checks.values_list("plan_key", flat=True))
    travel.move_to(datetime(2026, 6, 15, 15, tzinfo=UTC))
    course_change_dose(course=course, dose_code="200mg-qd")
    after = set(
        course.checks.exclude(status=CheckStatus.CANCELLED).values_list("plan_key", flat=True)
    )
    assert before <= after, "a dose change must not cancel or rename planned checks"
    assert {k for k in after - before if "/dose-" in k} == {"cbc/dose-2026-06-15+4w"}
    assert course.checks.get(plan_key="cbc/dose-2026-06-15+4w").due_date == date(2026, 7, 13)
    # Same day as a planned blood test: the dose check folds into it instead of renaming it.
    course_change_dose(course=course, dose_code="100mg-qd")
    travel.move_to(datetime(2026, 7, 28, 15, tzinfo=UTC))  # +4w = 25 Aug, the 12w+3m blood test
    course_change_dose(course=course, dose_code="200mg-qd")
    assert not course.checks.filter(plan_key="cbc/dose-2026-07-28+4w").exists()
    assert course.checks.filter(status=CheckStatus.CANCELLED).count() == 0


def test_database_refuses_duplicate_plan_keys(travel, patient):
    course = start(patient).course
    check = course.checks.first()
    check.pk, check.uuid = None, uuid.uuid4()
    with pytest.raises(IntegrityError), transaction.atomic():
        check.save()


def test_other_patient_cannot_share_mrn_in_clinic(travel, patient):
    with pytest.raises(IntegrityError), transaction.atomic():
        PatientFactory(clinic=patient.clinic, mrn=patient.mrn)


def test_changed_rules_replan_future_checks_but_never_done_ones(travel, patient, tmp_path):
    course = start(patient).course
    tb = course.checks.get(plan_key="tb/baseline")
    check_complete(check=tb, completed_on=date(2026, 2, 20), **without_values(tb))
    renal = course.checks.get(plan_key="renal/start+12w")  # the protocol's, not the label's
    seeds = copy_seeds(tmp_path)
    edit_yaml(
        seeds / "protocols/default.yaml",
        lambda d: d.update(additional=[r for r in d["additional"] if r["kind"] != "renal"]),
    )
    edit_yaml(
        seeds / "drugs/tofacitinib.yaml",
        lambda d: d.update(monitoring=[r for r in d["monitoring"] if r["id"] != "tofacitinib.tb"]),
    )

    report = rules_load(seed_dir=seeds)
    assert report.courses_replanned == 1
    renal.refresh_from_db()
    tb.refresh_from_db()
    assert renal.status == CheckStatus.CANCELLED
    assert tb.status == CheckStatus.DONE and tb.completed_on == date(2026, 2, 20)
    course.refresh_from_db()
    assert course.rules_version.version == 2


@pytest.mark.parametrize(
    "kwargs,field",
    [
        ({"value": "99999999.99999"}, "value"),
        ({"value": "-1"}, "value"),
        ({"value": "NaN"}, "value"),
        ({"unit": "x" * 21}, "unit"),
        ({"unit": "  "}, "unit"),
        ({"analyte": "sodium"}, "analyte"),
    ],
)
def test_result_bad_input_names_the_field(travel, patient, kwargs, field):
    course = start(patient).course
    args = {"analyte": "ldl", "value": "3.1", "unit": "mmol/L", **kwargs}
    with pytest.raises(ValidationError) as err:
        lab_result_record(course=course, collected_on=date(2026, 3, 2), **args)
    assert field in err.value.message_dict and not LabResult.objects.exists()


def test_results_in_other_units_are_kept_and_compared_only_when_convertible(travel, patient):
    course = start(patient).course
    lab_result_record(
        course=course, analyte="ldl", value="3.1", unit="mmol/L", collected_on=date(2026, 3, 1)
    )
    second = lab_result_record(
        course=course, analyte="ldl", value="120", unit="mg/dL", collected_on=date(2026, 3, 2)
    )
    assert second.outcome.action == "none"
    lab_result_record(
        course=course, analyte="hb", value="13.4", unit="g/dL", collected_on=date(2026, 3, 1)
    )
    stored = lab_result_record(
        course=course, analyte="hb", value="11.12345", unit="g/dL", collected_on=date(2026, 3, 2)
    )
    assert stored.result.value == Decimal("11.1235") and stored.outcome.action == "interrupt"


def test_result_for_another_courses_check_is_refused(travel, patient):
    course = start(patient).course
    other = start(PatientFactory(clinic=patient.clinic)).course
    with pytest.raises(ValidationError) as err:
        lab_result_record(
            course=course,
            analyte="hb",
            value="13",
            unit="g/dL",
            collected_on=date(2026, 3, 2),
            monitoring_check=other.checks.first(),
        )
    assert "monitoring_check" in err.value.message_dict


def test_result_taken_before_a_pause_is_judged_as_on_treatment(travel, patient):
    course = start(patient, on=date(2026, 2, 2)).course
    infection_report(course=course, **infection_facts(course), serious=True, reporter="staff")
    course.refresh_from_db()
    before_pause = lab_result_record(
        course=course, analyte="anc", value="1200", unit="cells/mm3", collected_on=date(2026, 2, 20)
    )
    during = lab_result_record(
        course=course, analyte="anc", value="1200", unit="cells/mm3", collected_on=date(2026, 3, 2)
    )
    assert before_pause.outcome.action == "none"
    assert during.outcome.action == "advise"  # resume criterion met while paused


def test_pauses_cannot_overlap_and_a_planned_course_can_pause_and_resume(travel, patient):
    from clinics.services.courses import course_pause

    course = start(patient, on=date(2026, 4, 1)).course  # planned
    reported = infection_report(
        course=course, **infection_facts(course), serious=False, reporter="patient"
    )
    course.refresh_from_db()
    assert course.status == CourseStatus.PAUSED and course.pauses.get().paused_on == date(
        2026, 3, 2
    )
    infection_resolve(report=reported.report, outcome="recovered")
    course_resume(course=course)
    course.refresh_from_db()
    assert course.status == CourseStatus.PLANNED
    with pytest.raises(ValidationError) as err:
        course_pause(course=course, reason="clinician", paused_on=date(2026, 3, 1))
    assert "paused_on" in err.value.message_dict


def test_stop_date_and_report_time_are_checked(travel, patient):
    course = start(patient).course
    with pytest.raises(ValidationError) as err:
        course_stop(course=course, reason="failure", stopped_on=date(2026, 3, 3))
    assert "stopped_on" in err.value.message_dict
    with pytest.raises(ValidationError) as err:
        infection_report(
            course=course,
            **infection_facts(course),
            serious=True,
            reporter="staff",
            reported_at=datetime(2026, 3, 2, 9),  # noqa: DTZ001 - naive on purpose
        )
    assert "reported_at" in err.value.message_dict
    course.refresh_from_db()
    assert course.status == CourseStatus.ACTIVE


def test_rule_text_changes_reach_open_checks(travel, patient, tmp_path):
    course = start(patient).course
    seeds = copy_seeds(tmp_path)
    edit_yaml(
        seeds / "drugs/tofacitinib.yaml",
        lambda d: rule_in(d, "tofacitinib.tb").update(
            verified=False, source="Re-checked against the 2026 label: pending confirmation"
        ),
    )
    rules_load(seed_dir=seeds)
    check = course.checks.get(plan_key="tb/baseline")
    assert check.verified is False and "pending confirmation" in check.why
    assert check.rules_version.version == 2


def test_marking_the_dose_stable_ends_the_until_stable_counts(travel, patient):
    course = start(patient, drug="ruxolitinib", dose="15mg-bid", indication="mf").course
    titration = course.checks.filter(plan_key__startswith="cbc/stable-")
    assert titration.count() > 10
    with pytest.raises(ValidationError) as err:
        course_mark_dose_stable(course=course, stable_on=date(2026, 3, 3))
    assert "future" in err.value.message_dict["stable_on"][0]
    travel.move_to(datetime(2026, 5, 4, 15, tzinfo=UTC))
    course_mark_dose_stable(course=course, version=course.version)
    course.refresh_from_db()
    assert course.dose_stable_on == date(2026, 5, 4)
    later = titration.filter(window_start__gte=date(2026, 5, 4))
    assert later.exists() and set(later.values_list("status", flat=True)) == {"cancelled"}
    assert titration.filter(window_start__lt=date(2026, 5, 4)).exclude(status="cancelled").exists()


def test_only_a_drug_with_an_until_stable_phase_can_be_marked_stable(travel, patient):
    course = start(patient).course  # tofacitinib
    with pytest.raises(ValidationError) as err:
        course_mark_dose_stable(course=course)
    assert "no checks that last until the dose is stable" in err.value.message_dict["stable_on"][0]

"""Domain rules that live in the services, whatever the entry point: staff cannot pause for an
infection (reporting one pauses and alerts), outcomes say whether they alert staff, and the
rules in force follow a new rule file without any cache to clear."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError

from clinics.core.vocab import CheckStatus, CourseStatus, MessageKind, PauseReason, Reporter
from clinics.models import CoursePause, Drug, Message
from clinics.rulebook import drug_rules
from clinics.services.checks import check_complete
from clinics.services.courses import course_pause, course_start
from clinics.services.infections import infection_report
from clinics.services.seeds import rules_load
from tests.support.factories import infection_facts, without_values
from tests.support.seed_edits import copy_seeds, edit_yaml, rule_in


@pytest.fixture
def course(patient):
    return course_start(
        patient=patient,
        drug=Drug.objects.get(code="tofacitinib"),
        dose_code="5mg-bid",
        indication="ra",
        start_date=patient.clinic.today() - timedelta(days=40),
    ).course


def test_course_pause_refuses_the_infection_reason(course):
    with pytest.raises(ValidationError) as err:
        course_pause(course=course, reason=PauseReason.INFECTION)
    assert "Report the infection" in err.value.message_dict["reason"][0]
    course.refresh_from_db()
    assert course.status == CourseStatus.ACTIVE
    assert not CoursePause.objects.filter(course=course).exists()


def test_course_pause_names_the_reasons_staff_may_give(course):
    with pytest.raises(ValidationError) as err:
        course_pause(course=course, reason="holiday")
    assert err.value.message_dict["reason"] == ["Choose one of: lab_result, clinician."]


def test_an_infection_report_pauses_with_the_infection_reason_and_alerts(
    course, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks():
        reported = infection_report(
            course=course, **infection_facts(course), serious=False, reporter=Reporter.STAFF
        )
    pause = reported.report.pause
    assert pause.reason == PauseReason.INFECTION
    course.refresh_from_db()
    assert course.status == CourseStatus.PAUSED
    assert Message.objects.filter(course=course, kind=MessageKind.PAUSE_ALERT_PATIENT).count() == 1


def test_completed_check_says_whether_it_alerts_staff(course):
    check = course.checks.filter(
        kind="cbc", status__in=[CheckStatus.SCHEDULED, CheckStatus.OVERDUE]
    ).first()
    done = check_complete(
        check=check,
        completed_on=course.patient.clinic.today(),
        **without_values(check),
    )
    assert done.action == "none"
    assert done.alerts_staff is False


def test_rules_in_force_follow_a_new_file_without_clearing_a_cache(rules_loaded, tmp_path):
    drug = Drug.objects.get(code="tofacitinib")
    before = drug_rules(drug=drug)
    assert drug_rules(drug=Drug.objects.get(code="tofacitinib")) is before  # parsed once
    seeds = copy_seeds(tmp_path)
    path = seeds / "drugs" / "tofacitinib.yaml"
    edit_yaml(
        path,
        lambda data: rule_in(data, "tofacitinib.infection").update(text="Edited infection text."),
    )
    rules_load(seed_dir=seeds)
    after = drug_rules(drug=Drug.objects.get(code="tofacitinib"))
    assert after is not before
    assert [r.text for r in after.infection if r.id == "tofacitinib.infection"] == [
        "Edited infection text."
    ]

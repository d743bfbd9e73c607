"""The patient page and its actions: report an infection, resolve it, resume, stop; each through
the services, allowed by role in the patient's clinic, and 404 for another clinic's course."""

from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from clinics.lifecycle import CourseStatus
from clinics.models import Drug, Message
from clinics.services.courses import course_start
from clinics.services.results import lab_result_record
from clinics.services.staff import staff_member_add
from tests.factories import ClinicFactory, PatientFactory

PASSWORD = "a-long-test-password"


def as_role(client, clinic, role, username):
    staff_member_add(clinic=clinic, username=username, email=f"{username}@example.org", role=role,
                     password=PASSWORD)  # fmt: skip
    client.logout()
    assert client.login(username=username, password=PASSWORD)


def action(name, obj):
    return reverse("admin:clinics_patient_action", args=[name, obj.uuid])


@pytest.fixture
def course(rules_loaded):
    patient = PatientFactory(clinic=ClinicFactory(name="Alpha Clinic"))
    return course_start(patient=patient, drug=Drug.objects.get(code="baricitinib"), dose_code="2mg-qd-us",
                        indication="ra", start_date=date.today() - timedelta(days=10)).course  # fmt: skip


def test_patient_page_shows_courses_checks_with_why_results_and_messages(client, course):
    as_role(client, course.patient.clinic, "viewer", "viv")
    page = client.get(
        reverse("admin:clinics_patient_change", args=[course.patient.pk])
    ).content.decode()
    assert "Baricitinib" in page and "Open checks" in page
    check = course.checks.filter(status="scheduled").first()
    assert check.why.splitlines()[0][:40] in page  # the rule and source behind each check


def test_report_infection_then_resolve_and_resume_by_role(client, course):
    clinic = course.patient.clinic
    staff_member_add(clinic=clinic, username="nurse", email="nurse@example.org", role="clinician",
                     password=PASSWORD)  # fmt: skip
    as_role(client, clinic, "coordinator", "coco")
    response = client.post(
        action("report-infection", course), {"serious": "on", "description": "cough"}
    )
    assert response.status_code == 302
    course.refresh_from_db()
    assert course.status == CourseStatus.PAUSED
    assert Message.objects.filter(kind=Message.Kind.PAUSE_ALERT_STAFF).exists()
    report = course.infections.get()
    assert report.reported_by.username == "coco"
    assert client.post(action("resolve-infection", report)).status_code == 403  # clinicians decide
    assert (
        client.post(
            action("resume", course), {"resumed_on": course.patient.clinic.today()}
        ).status_code
        == 403
    )
    as_role(client, clinic, "clinician", "doc")
    refused = client.post(
        action("resume", course), {"resumed_on": course.patient.clinic.today().isoformat()}
    )
    assert b"Resolve the reported infection" in refused.content  # the service's reason, shown
    assert client.post(action("resolve-infection", report)).status_code == 302
    assert (
        client.post(
            action("resume", course), {"resumed_on": course.patient.clinic.today().isoformat()}
        ).status_code
        == 302
    )
    course.refresh_from_db()
    assert course.status == CourseStatus.ACTIVE


def test_stop_errors_name_the_field_and_change_nothing(client, course):
    as_role(client, course.patient.clinic, "clinician", "doc")
    future = (course.patient.clinic.today() + timedelta(days=3)).isoformat()
    page = client.post(
        action("stop", course), {"stop_reason": "patient_choice", "stopped_on": future}
    )
    assert page.status_code == 200 and b"cannot be stopped in the future" in page.content
    assert b'class="form-row errors"' in page.content
    course.refresh_from_db()
    assert course.status == CourseStatus.ACTIVE
    ok = client.post(
        action("stop", course),
        {"stop_reason": "patient_choice", "stopped_on": course.patient.clinic.today()},
    )
    assert ok.status_code == 302
    course.refresh_from_db()
    assert course.status == CourseStatus.STOPPED


def test_another_clinics_course_is_404_and_viewers_get_403(client, course):
    as_role(client, ClinicFactory(name="Other"), "clinician", "stranger")
    assert client.get(action("report-infection", course)).status_code == 404
    assert client.post(action("stop", course), {"stop_reason": "other"}).status_code == 404
    as_role(client, course.patient.clinic, "viewer", "viv")
    assert client.post(action("report-infection", course), {"serious": "on"}).status_code == 403
    course.refresh_from_db()
    assert course.status == CourseStatus.ACTIVE


def test_patient_page_queries_do_not_grow_with_history(client, course):
    as_role(client, course.patient.clinic, "viewer", "viv")
    url = reverse("admin:clinics_patient_change", args=[course.patient.pk])
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    for day in range(60):
        lab_result_record(course=course, analyte="hb", value="13.0", unit="g/dL",
                          collected_on=date.today() - timedelta(days=day + 1))  # fmt: skip
    with CaptureQueriesContext(connection) as many:
        assert client.get(url).status_code == 200
    assert len(many) == len(few)

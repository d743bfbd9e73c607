"""Admin scoping: staff see only their clinics and edit only where their role allows; patient
edits go through the service (consent time recorded, plans follow the patient's facts)."""

import re
from datetime import date

import pytest
from django.core.exceptions import ValidationError

from clinics.models import Drug
from clinics.services.courses import course_start
from clinics.services.staff import staff_member_add
from tests.support.factories import ClinicFactory, PatientFactory


@pytest.fixture
def two_clinics(rules_loaded):
    return ClinicFactory(name="Alpha Clinic"), ClinicFactory(name="Secret Other Clinic")


def login(client, clinic, role, username="alice"):
    staff_member_add(
        clinic=clinic,
        username=username,
        email=f"{username}@example.org",
        role=role,
        password="a-long-test-password",
    )
    assert client.login(username=username, password="a-long-test-password")


def test_staff_see_only_their_clinic(client, two_clinics):
    mine, other = two_clinics
    PatientFactory(clinic=mine, mrn="MINE-1")
    theirs = PatientFactory(clinic=other, mrn="THEIRS-1")
    login(client, mine, "viewer")
    page = client.get("/admin/clinics/patient/")
    assert b"MINE-1" in page.content and b"THEIRS-1" not in page.content
    assert b"Secret Other Clinic" not in page.content
    assert client.get(f"/admin/clinics/patient/{theirs.pk}/change/").status_code == 404
    assert client.get(f"/admin/clinics/patient/{theirs.pk}/history/").status_code == 404
    assert b"THEIRS-1" not in client.get("/admin/clinics/patient/?q=THEIRS").content
    # PostgreSQL cannot search for text holding NUL: refused, not a server error.
    assert client.get("/admin/clinics/patient/", {"q": "THE\x00IRS"}).status_code == 400


def test_role_applies_per_clinic(client, two_clinics):
    mine, other = two_clinics
    staff_member_add(
        clinic=mine,
        username="alice",
        email="a@example.org",
        role="clinician",
        password="a-long-test-password",
    )
    login(client, other, "viewer")
    editable = PatientFactory(clinic=mine, reminder_consent=False)
    readonly = PatientFactory(clinic=other)
    data = {
        "given_name": "Changed",
        "family_name": "X",
        "mrn": readonly.mrn,
        "date_of_birth": "1970-01-01",
        "sex_at_birth": "female",
        "email": "",
        "time_zone": "",
        "reminder_consent": "on",
    }
    assert client.post(f"/admin/clinics/patient/{readonly.pk}/change/", data).status_code == 403
    readonly.refresh_from_db()
    assert readonly.given_name != "Changed"
    data["mrn"] = editable.mrn
    assert client.post(f"/admin/clinics/patient/{editable.pk}/change/", data).status_code == 302
    editable.refresh_from_db()
    assert editable.given_name == "Changed" and editable.reminder_consent_at is not None


def test_sex_change_replans_pregnancy_check(client, two_clinics):
    mine, _ = two_clinics
    login(client, mine, "coordinator")
    patient = PatientFactory(
        clinic=mine, sex_at_birth="female", date_of_birth=date(1990, 1, 1), reminder_consent=False
    )
    course = course_start(
        patient=patient,
        drug=Drug.objects.get(code="tofacitinib"),
        dose_code="5mg-bid",
        indication="ra",
        start_date=mine.today(),
    ).course
    assert course.checks.get(kind="pregnancy").status == "scheduled"
    data = {
        "given_name": patient.given_name,
        "family_name": patient.family_name,
        "mrn": patient.mrn,
        "date_of_birth": "1990-01-01",
        "sex_at_birth": "male",
        "email": "",
        "time_zone": "",
    }
    assert client.post(f"/admin/clinics/patient/{patient.pk}/change/", data).status_code == 302
    assert course.checks.get(kind="pregnancy").status == "cancelled"


def test_unknown_role_is_refused(two_clinics):
    with pytest.raises(ValidationError) as err:
        staff_member_add(
            clinic=two_clinics[0],
            username="bob",
            email="b@example.org",
            role="boss",
            password="x" * 12,
        )
    assert "role" in err.value.message_dict


def test_calendar_link_actions_follow_the_role(client, two_clinics):
    from clinics.models import CalendarFeed, Message

    mine, other = two_clinics
    patient = PatientFactory(clinic=mine)
    theirs = PatientFactory(clinic=other)
    login(client, mine, "coordinator")
    action = {"action": "send_calendar_link", "_selected_action": [patient.pk, theirs.pk]}
    assert client.post("/admin/clinics/patient/", action).status_code == 302
    live = CalendarFeed.objects.filter(revoked_at__isnull=True)
    assert list(live.values_list("patient", flat=True)) == [patient.pk]  # not the other clinic's
    assert Message.objects.get(kind="calendar_link").recipient == patient.email
    page = client.get(f"/admin/clinics/patient/{patient.pk}/change/").content.decode()
    assert "webcal://" in page and "/checks.ics" in page
    revoke = {"action": "revoke_calendar_link", "_selected_action": [patient.pk]}
    client.post("/admin/clinics/patient/", revoke)
    assert not live.exists()
    client.logout()
    login(client, mine, "viewer", username="victor")
    client.post("/admin/clinics/patient/", action)
    assert not live.exists()  # a viewer cannot issue links


def test_staff_calendar_page_issues_and_stops_the_link(client, two_clinics):
    mine, _ = two_clinics
    login(client, mine, "viewer")
    assert b"You have no calendar link" in client.get("/admin/my-calendar/").content
    assert b"My calendar" in client.get("/admin/").content  # linked from every admin page
    client.post("/admin/my-calendar/", {"action": "issue"})
    page = client.get("/admin/my-calendar/").content.decode()
    path = re.search(r"<code>http://[^/]+(/feeds/[^<]+)</code>", page).group(1)
    client.logout()
    assert client.get(path).status_code == 200  # the feed needs no login
    client.login(username="alice", password="a-long-test-password")
    client.post("/admin/my-calendar/", {"action": "revoke"})
    client.logout()
    assert client.get(path).status_code == 404


def test_history_records_who_changed_what_and_stays_in_the_clinic(client, two_clinics):
    mine, other = two_clinics
    patient = PatientFactory(clinic=mine, given_name="Before")
    theirs = PatientFactory(clinic=other)
    login(client, mine, "coordinator")
    data = {
        "given_name": "After",
        "family_name": patient.family_name,
        "mrn": patient.mrn,
        "date_of_birth": "1970-01-01",
        "sex_at_birth": "female",
        "email": "",
        "time_zone": "",
    }
    assert client.post(f"/admin/clinics/patient/{patient.pk}/change/", data).status_code == 302
    latest = patient.history.latest()
    assert latest.history_user.username == "alice" and latest.given_name == "After"
    page = client.get(f"/admin/clinics/patient/{patient.pk}/history/").content.decode()
    assert "alice" in page and "Before" in page and "After" in page
    assert client.get(f"/admin/clinics/patient/{theirs.pk}/history/").status_code == 404
    version = theirs.history.latest().history_id
    url = f"/admin/clinics/patient/{theirs.pk}/history/{version}/"
    assert client.get(url).status_code == 404


def test_course_and_check_changes_are_in_the_history(client, two_clinics):
    from clinics.services.courses import course_stop

    mine, _ = two_clinics
    patient = PatientFactory(clinic=mine)
    course = course_start(
        patient=patient,
        drug=Drug.objects.get(code="baricitinib"),
        dose_code="2mg-qd-us",
        indication="ra",
        start_date=mine.today(),
    ).course
    course_stop(course=course, reason="patient_choice")
    check = course.checks.first()
    assert [h.status for h in check.history.order_by("history_date")][-1] == "cancelled"
    assert check.history.count() >= 2  # planned, then cancelled
    assert course.history.latest().status == "stopped"

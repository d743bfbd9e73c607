"""The API's authorization matrix: every endpoint x every role x own and other clinic.

In the user's own clinic an endpoint succeeds when the role grants its capability (the same
table as the admin, `clinics.permissions.ROLE_CAPABILITIES`) and is 403 otherwise; another
clinic's object is 404 whatever the role; without credentials everything is 401. Lists hold only
the user's own clinics' rows."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from knox.models import AuthToken
from rest_framework.test import APIClient

from clinics.permissions import ROLE_CAPABILITIES, Can
from clinics.services.staff import staff_member_add
from tests.support.factories import ClinicFactory
from tests.support.worlds import World, world

API = "/api/v1"
ROLES = ["viewer", "coordinator", "clinician"]


def today(w: World) -> str:
    return w.clinic.today().isoformat()


START = {"drug": "baricitinib", "dose_code": "2mg-qd-us", "indication": "ra"}
# name: (method, path, body, capability)
ENDPOINTS = {
    "clinic": ("get", lambda w: f"/clinics/{w.clinic.uuid}/", None, Can.VIEW),
    "patient": ("get", lambda w: f"/patients/{w.patient.uuid}/", None, Can.VIEW),
    "patient-edit": (
        "patch",
        lambda w: f"/patients/{w.patient.uuid}/",
        lambda w: {"email": "changed@example.org"},
        Can.EDIT_PATIENTS,
    ),
    "calendar-link": (
        "post",
        lambda w: f"/patients/{w.patient.uuid}/calendar-link/",
        None,
        Can.EDIT_PATIENTS,
    ),
    "calendar-link-stop": (
        "delete",
        lambda w: f"/patients/{w.patient.uuid}/calendar-link/",
        None,
        Can.EDIT_PATIENTS,
    ),
    "preview-course": (
        "post",
        lambda w: f"/patients/{w.new_patient.uuid}/preview-course/",
        lambda w: {**START, "start_date": today(w)},
        Can.MANAGE_COURSES,
    ),
    "start-course": (
        "post",
        lambda w: f"/patients/{w.new_patient.uuid}/start-course/",
        lambda w: {**START, "start_date": today(w)},
        Can.MANAGE_COURSES,
    ),
    "course": ("get", lambda w: f"/courses/{w.course.uuid}/", None, Can.VIEW),
    "pause": (
        "post",
        lambda w: f"/courses/{w.course.uuid}/pause/",
        lambda w: {"reason": "clinician"},
        Can.MANAGE_COURSES,
    ),
    "resume": (
        "post",
        lambda w: f"/courses/{w.paused.uuid}/resume/",
        lambda w: {},
        Can.MANAGE_COURSES,
    ),
    "change-dose": (
        "post",
        lambda w: f"/courses/{w.course.uuid}/change-dose/",
        lambda w: {"dose_code": "1mg-qd-us"},
        Can.MANAGE_COURSES,
    ),
    "stop": (
        "post",
        lambda w: f"/courses/{w.course.uuid}/stop/",
        lambda w: {"reason": "other"},
        Can.MANAGE_COURSES,
    ),
    "report-infection": (
        "post",
        lambda w: f"/courses/{w.course.uuid}/report-infection/",
        lambda w: {"kind": "urinary", "onset_on": today(w), "serious": False},
        Can.REPORT_INFECTIONS,
    ),
    "lab-result": (
        "post",
        lambda w: f"/courses/{w.course.uuid}/lab-results/",
        lambda w: {
            "analyte": "anc",
            "value": "2000",
            "unit": "cells/mm3",
            "collected_on": today(w),
        },
        Can.MANAGE_COURSES,
    ),
    "check": ("get", lambda w: f"/checks/{w.check.uuid}/", None, Can.VIEW),
    "complete": (
        "post",
        lambda w: f"/checks/{w.check.uuid}/complete/",
        lambda w: {
            "completed_on": today(w),
            "confirm_outside_window": True,
            "missing": dict.fromkeys(w.check.analytes, "not_done"),
        },
        Can.COMPLETE_CHECKS,
    ),
    "sample-taken": (
        "post",
        lambda w: f"/checks/{w.check.uuid}/sample-taken/",
        lambda w: {"sampled_on": today(w)},
        Can.COMPLETE_CHECKS,
    ),
    "sample-lost": (
        "post",
        lambda w: f"/checks/{w.sampled.uuid}/sample-lost/",
        None,
        Can.COMPLETE_CHECKS,
    ),
    "send-reminder": (
        "post",
        lambda w: f"/checks/{w.check.uuid}/send-reminder/",
        None,
        Can.RESEND_MESSAGES,
    ),
    "result": ("get", lambda w: f"/lab-results/{w.result.uuid}/", None, Can.VIEW),
    "infection-report": ("get", lambda w: f"/infection-reports/{w.report.uuid}/", None, Can.VIEW),
    "resolve": (
        "post",
        lambda w: f"/infection-reports/{w.report.uuid}/resolve/",
        lambda w: {"outcome": "recovered"},
        Can.MANAGE_COURSES,
    ),
    "message": ("get", lambda w: f"/messages/{w.message.uuid}/", None, Can.VIEW),
}
# The success code of each endpoint that does not answer 200.
SUCCESS = {
    "start-course": 201,
    "report-infection": 201,
    "lab-result": 201,
    "calendar-link-stop": 204,
}
LISTS = ["clinics", "patients", "courses", "checks", "lab-results", "infection-reports", "messages"]


@pytest.fixture
def worlds(rules_loaded, settings):
    # A short planning horizon: the matrix is about who may call what, not about the plan.
    settings.JAKMONITOR = {**settings.JAKMONITOR, "PLAN_HORIZON_MONTHS": 4}
    return world(ClinicFactory(name="Own")), world(ClinicFactory(name="Other"))


def api_as(role: str, clinic) -> APIClient:
    user = staff_member_add(
        clinic=clinic,
        username=role,
        email=f"{role}@example.org",
        role=role,
        password="a-long-test-password",
    )
    _, token = AuthToken.objects.create(user=user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


def call(client, name, w):
    method, path, body, _ = ENDPOINTS[name]
    return getattr(client, method)(API + path(w), body(w) if body else None, format="json")


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("name", ENDPOINTS)
def test_own_clinic_by_role(worlds, name, role):
    own, _ = worlds
    response = call(api_as(role, own.clinic), name, own)
    if ENDPOINTS[name][3] in ROLE_CAPABILITIES[role]:
        expected = SUCCESS.get(name, 200)
        assert response.status_code == expected, (response.status_code, response.content[:300])
    else:
        assert response.status_code == 403, response.content[:300]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("name", ENDPOINTS)
def test_other_clinic_is_not_found(worlds, name, role):
    own, other = worlds
    response = call(api_as(role, own.clinic), name, other)
    assert response.status_code == 404, response.content[:300]


@pytest.mark.parametrize("name", ENDPOINTS)
def test_no_credentials_is_401(worlds, name):
    own, _ = worlds
    assert call(APIClient(), name, own).status_code == 401


@pytest.mark.parametrize("role", ROLES)
def test_lists_hold_own_clinic_rows_only(worlds, role):
    own, other = worlds
    client = api_as(role, own.clinic)
    for name in LISTS:
        response = client.get(f"{API}/{name}/", {"page_size": 500})
        assert response.status_code == 200, name
        seen = {row["uuid"] for row in response.json()["results"]}
        assert seen, name
        foreign = {
            str(getattr(other, attr).uuid)
            for attr in ("clinic", "patient", "course", "check", "result", "report", "message")
        }
        assert not seen & foreign, name
    assert client.get(f"{API}/drugs/baricitinib/").status_code == 200


@pytest.mark.parametrize("role", ROLES)
def test_patient_create_by_role_and_clinic(worlds, role):
    own, other = worlds
    client = api_as(role, own.clinic)
    body = {"mrn": "NEW-1", "given_name": "N", "family_name": "E", "date_of_birth": "1970-01-01"}
    created = client.post(
        f"{API}/patients/", {**body, "clinic": str(own.clinic.uuid)}, format="json"
    )
    assert created.status_code == (201 if Can.EDIT_PATIENTS in ROLE_CAPABILITIES[role] else 403)
    foreign = client.post(
        f"{API}/patients/", {**body, "clinic": str(other.clinic.uuid)}, format="json"
    )
    assert foreign.status_code == 400 and "clinic" in foreign.json()


@pytest.mark.parametrize("name", LISTS)
def test_list_queries_do_not_grow_with_rows(worlds, name):
    own, _ = worlds
    client = api_as("clinician", own.clinic)
    client.get(f"{API}/{name}/")  # warm caches (content types)
    with CaptureQueriesContext(connection) as few:
        assert client.get(f"{API}/{name}/").status_code == 200
    for _ in range(3):
        world(own.clinic)
    with CaptureQueriesContext(connection) as many:
        assert client.get(f"{API}/{name}/").status_code == 200
    assert len(many) == len(few), [q["sql"][:100] for q in many.captured_queries]

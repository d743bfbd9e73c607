"""The REST API: each endpoint through the same services as the admin, with token or session
authentication, errors that name the field (400), lifecycle conflicts (409) and 404 for another
clinic's objects."""

from datetime import date, timedelta
from decimal import Decimal

import orjson
import pytest
from django.core.management import call_command
from django.db import connection, models
from django.db.models import Value
from knox.models import AuthToken
from rest_framework.test import APIClient

from clinics.api.internals import json_values
from clinics.core.vocab import CourseStatus
from clinics.models import Drug, Message, MonitoringCheck, Patient
from clinics.services.checks import check_complete
from clinics.services.courses import course_start
from clinics.services.results import ResultInput
from clinics.services.staff import staff_member_add
from tests.support.factories import ClinicFactory, PatientFactory

API = "/api/v1"


def client_for(user) -> APIClient:
    _, token = AuthToken.objects.create(user=user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


@pytest.fixture
def setup(rules_loaded):
    clinic = ClinicFactory(name="Alpha")
    doc = staff_member_add(
        clinic=clinic,
        username="doc",
        email="doc@example.org",
        role="clinician",
        password="a-long-test-password",
    )
    patient = PatientFactory(clinic=clinic, date_of_birth=date(1960, 1, 1))
    course = course_start(
        patient=patient,
        drug=Drug.objects.get(code="baricitinib"),
        dose_code="2mg-qd-us",
        indication="ra",
        start_date=clinic.today() - timedelta(days=10),
    ).course
    return clinic, client_for(doc), course


def test_token_is_required_and_only_its_hash_is_stored(setup):
    clinic, api, course = setup
    assert APIClient().get(f"{API}/patients/").status_code == 401
    bad = APIClient()
    bad.credentials(HTTP_AUTHORIZATION="Token jak_" + "0" * 60)
    assert bad.get(f"{API}/patients/").status_code == 401
    assert api.get(f"{API}/patients/").status_code == 200
    token = api._credentials["HTTP_AUTHORIZATION"].split()[1]
    assert not AuthToken.objects.filter(digest=token).exists() and token.startswith("jak_")


def test_session_login_works_too(client, setup):
    assert client.login(username="doc", password="a-long-test-password")
    assert client.get(f"{API}/clinics/").json()["results"][0]["name"] == "Alpha"


def test_patient_create_update_and_errors_name_the_field(setup):
    clinic, api, _ = setup
    body = {
        "clinic": str(clinic.uuid),
        "mrn": "N-1",
        "given_name": "Ann",
        "family_name": "Lee",
        "date_of_birth": "1980-02-03",
        "sex_at_birth": "female",
        "email": "ann@example.org",
        "reminder_consent": True,
    }
    created = api.post(f"{API}/patients/", body, format="json")
    assert created.status_code == 201, created.json()
    assert created.json()["reminder_consent_at"] is not None
    again = api.post(f"{API}/patients/", body, format="json")
    assert again.status_code == 400 and "mrn" in again.json()
    future = api.post(
        f"{API}/patients/", {**body, "mrn": "N-2", "date_of_birth": "2999-01-01"}, format="json"
    )
    assert future.status_code == 400 and "date_of_birth" in future.json()
    other = ClinicFactory(name="Other")
    foreign = api.post(
        f"{API}/patients/", {**body, "mrn": "N-3", "clinic": str(other.uuid)}, format="json"
    )
    assert foreign.status_code == 400 and "clinic" in foreign.json()
    uuid = created.json()["uuid"]
    patched = api.patch(f"{API}/patients/{uuid}/", {"email": "new@example.org"}, format="json")
    assert patched.status_code == 200 and patched.json()["email"] == "new@example.org"
    assert Patient.objects.get(uuid=uuid).history.count() == 2


def test_start_preview_and_start_a_course(setup):
    clinic, api, _ = setup
    patient = PatientFactory(clinic=clinic)
    body = {
        "drug": "baricitinib",
        "dose_code": "2mg-qd-us",
        "indication": "ra",
        "start_date": clinic.today().isoformat(),
        "renal_value": "45",
        "renal_measure": "egfr",
    }
    preview = api.post(f"{API}/patients/{patient.uuid}/preview-course/", body, format="json")
    assert preview.status_code == 200
    assert preview.json()["checks"] and "eGFR 30 to below 60" in preview.json()["advice"][0]["text"]
    assert any(
        r["rule_id"] == "baricitinib.alc.no-start" for r in preview.json()["do_not_start_rules"]
    )
    assert preview.json()["renal_gaps"] == []  # eGFR is the US label's measure
    as_crcl = {**body, "renal_measure": "crcl"}
    gaps = api.post(f"{API}/patients/{patient.uuid}/preview-course/", as_crcl, format="json")
    (gap,) = gaps.json()["renal_gaps"]
    assert (gap["measure"], gap["given"]) == ("egfr", "crcl") and gaps.json()["advice"] == []
    assert "baricitinib.renal.moderate.us" in gap["rule_ids"] and "enter it" in gap["text"]
    assert not patient.courses.exists()
    started = api.post(f"{API}/patients/{patient.uuid}/start-course/", body, format="json")
    assert started.status_code == 201 and started.json()["checks_planned"] > 10
    conflict = api.post(f"{API}/patients/{patient.uuid}/start-course/", body, format="json")
    assert conflict.status_code == 409 and "drug" in conflict.json()
    wrong = api.post(
        f"{API}/patients/{patient.uuid}/preview-course/",
        {**body, "dose_code": "9mg"},
        format="json",
    )
    assert wrong.status_code == 400 and "dose_code" in wrong.json()


def test_the_preview_asks_for_hepatic_and_interaction_facts_and_applies_them(setup):
    clinic, api, _ = setup  # a US clinic
    patient = PatientFactory(clinic=clinic, sex_at_birth="male", date_of_birth=date(1966, 1, 1))
    body = {
        "drug": "tofacitinib",
        "dose_code": "5mg-bid",
        "indication": "ra",
        "start_date": clinic.today().isoformat(),
    }
    asked = api.post(f"{API}/patients/{patient.uuid}/preview-course/", body, format="json").json()
    assert {q["fact"] for q in asked["questions"]} == {"child_pugh", "interacting", "conditions"}
    (renal,) = asked["renal_gaps"]
    assert renal["given"] is None and renal["missing_for_estimate"][:2] == [
        "serum creatinine",
        "weight",
    ]
    patient.weight_kg, patient.weight_on = Decimal(70), clinic.today()
    patient.save()
    answered = {
        **body,
        "child_pugh": "B",
        "interacting": ["strong_cyp3a4_inhibitor"],
        "conditions": [],
        "creatinine": "1.6",
        "creatinine_unit": "mg/dL",
    }
    shown = api.post(f"{API}/patients/{patient.uuid}/preview-course/", answered, format="json")
    advice = {a["rule_id"]: a for a in shown.json()["advice"]}
    assert shown.json()["questions"] == [] and shown.json()["renal_gaps"] == []
    assert {
        "tofacitinib.hepatic.moderate.us",
        "tofacitinib.interaction.us",
        "tofacitinib.renal.moderate.us",
    } <= set(advice)
    assert "Cockcroft-Gault" in advice["tofacitinib.renal.moderate.us"]["basis"]
    for field, wrong in (("child_pugh", "D"), ("creatinine_unit", ""), ("interacting", ["x"])):
        bad = api.post(
            f"{API}/patients/{patient.uuid}/preview-course/",
            {**answered, field: wrong},
            format="json",
        )
        assert bad.status_code == 400 and field in bad.json(), field
    started = api.post(f"{API}/patients/{patient.uuid}/start-course/", answered, format="json")
    course = started.json()["course"]
    assert (course["child_pugh"], course["interacting"], course["conditions"]) == (
        "B",
        ["strong_cyp3a4_inhibitor"],
        [],
    )


def test_existing_patient_start_catches_up_missed_checks(setup):
    clinic, api, _ = setup
    patient = PatientFactory(clinic=clinic)
    today = clinic.today()
    body = {
        "drug": "tofacitinib",
        "dose_code": "5mg-bid",
        "indication": "ra",
        "start_date": (today - timedelta(days=210)).isoformat(),
        "done_elsewhere": {"cbc": (today - timedelta(days=20)).isoformat()},
    }
    preview = api.post(f"{API}/patients/{patient.uuid}/preview-course/", body, format="json")
    assert preview.status_code == 200, preview.json()
    shown = preview.json()
    assert "liver" in {c["kind"] for c in shown["catch_up"]}
    assert [d["kind"] for d in shown["done_elsewhere"]] == ["cbc"]
    assert all(c["missed"] and c["missed"][0]["why"] for c in shown["catch_up"])
    bad = api.post(
        f"{API}/patients/{patient.uuid}/start-course/",
        {**body, "done_elsewhere": {"cbc": (today + timedelta(days=3)).isoformat()}},
        format="json",
    )
    assert bad.status_code == 400 and "done_elsewhere[cbc]" in bad.json()
    assert not patient.courses.exists()
    started = api.post(f"{API}/patients/{patient.uuid}/start-course/", body, format="json")
    assert started.status_code == 201 and started.json()["catch_ups"] == len(shown["catch_up"])
    checks = api.get(f"{API}/checks/", {"course": started.json()["course"]["uuid"]}).json()
    origins = {c["origin"] for c in checks["results"]}
    assert "catch_up" in origins


def test_course_lifecycle_and_conflicts(setup):
    clinic, api, course = setup
    url = f"{API}/courses/{course.uuid}"
    asked = api.post(f"{url}/report-infection/", {"serious": True}, format="json")
    assert asked.status_code == 400 and set(asked.json()) == {"kind", "onset_on"}
    facts = {"kind": "skin", "onset_on": clinic.today().isoformat(), "serious": True}
    report = api.post(f"{url}/report-infection/", {**facts, "description": "cough"}, format="json")
    assert report.status_code == 201 and report.json()["reporter"] == "system"
    assert (report.json()["kind"], report.json()["onset_on"]) == ("skin", facts["onset_on"])
    assert api.get(f"{url}/").json()["status"] == CourseStatus.PAUSED
    assert Message.objects.filter(kind="pause_alert_staff").exists()
    refused = api.post(f"{url}/resume/", {}, format="json")
    assert refused.status_code == 409 and "status" in refused.json()
    resolve = f"{API}/infection-reports/{report.json()['uuid']}/resolve/"
    assert list(api.post(resolve, {}, format="json").json()) == ["outcome"]
    unsaid = api.post(resolve, {"outcome": "other"}, format="json")
    assert unsaid.status_code == 400 and list(unsaid.json()) == ["note"]
    resolved = api.post(resolve, {"outcome": "recovered_hospital"}, format="json")
    assert resolved.status_code == 200 and resolved.json()["resolved_at"]
    assert resolved.json()["outcome"] == "recovered_hospital"
    assert api.post(f"{url}/resume/", {}, format="json").json()["status"] == CourseStatus.ACTIVE
    unlabelled = api.post(f"{url}/change-dose/", {"dose_code": "4mg-qd-us"}, format="json")
    assert unlabelled.status_code == 400 and "dose_code" in unlabelled.json()  # AA/COVID only
    dose = api.post(f"{url}/change-dose/", {"dose_code": "1mg-qd-us"}, format="json")
    assert dose.status_code == 200 and dose.json()["dose_code"] == "1mg-qd-us"
    paused = api.post(f"{url}/pause/", {"reason": "clinician", "note": "surgery"}, format="json")
    assert paused.json()["status"] == CourseStatus.PAUSED
    stopped = api.post(f"{url}/stop/", {"reason": "patient_choice"}, format="json")
    assert stopped.json()["status"] == CourseStatus.STOPPED
    again = api.post(f"{url}/resume/", {}, format="json")
    assert again.status_code == 409
    future = api.post(f"{url}/pause/", {"reason": "clinician"}, format="json")
    assert future.status_code == 409


def test_checks_filter_complete_and_results(setup):
    clinic, api, course = setup
    today = clinic.today()
    listed = api.get(
        f"{API}/checks/",
        {
            "status": "scheduled",
            "kind": "cbc",
            "due_before": (today + timedelta(days=400)).isoformat(),
        },
    )
    rows = listed.json()["results"]
    assert rows and all(r["kind"] == "cbc" and r["status"] == "scheduled" for r in rows)
    assert [r["due_date"] for r in rows] == sorted(r["due_date"] for r in rows)
    assert api.get(f"{API}/checks/", {"due_before": "not-a-date"}).status_code == 400
    check = rows[0]["uuid"]
    others = {a: "not_done" for a in rows[0]["analytes"] if a != "anc"}  # a value for ANC only
    late = {"completed_on": today.isoformat(), "confirm_outside_window": True, "missing": others}
    unaccounted = api.post(
        f"{API}/checks/{check}/complete/", {"completed_on": today.isoformat()}, format="json"
    )
    assert unaccounted.status_code == 400 and set(unaccounted.json()) == {"results", "completed_on"}
    bad = api.post(
        f"{API}/checks/{check}/complete/",
        {**late, "results": [{"analyte": "anc", "value": "400", "unit": "furlongs"}]},
        format="json",
    )
    assert bad.status_code == 400 and "results[0].unit" in bad.json()
    missing = api.post(
        f"{API}/checks/{check}/complete/",
        {**late, "results": [{"analyte": "anc", "unit": "cells/mm3"}]},
        format="json",
    )
    assert missing.status_code == 400 and "results[0].value" in missing.json()
    done = api.post(
        f"{API}/checks/{check}/complete/",
        {**late, "results": [{"analyte": "anc", "value": "400", "unit": "cells/mm3"}]},
        format="json",
    )
    assert done.status_code == 200 and done.json()["action"] == "interrupt"
    assert done.json()["check"]["results_missing"] == others
    assert done.json()["check"]["done_outside_window"] is True
    finding = done.json()["results"][0]["findings"][0]
    assert finding["rule_id"] == "baricitinib.anc.interrupt" and "drugs.com" in finding["source"]
    assert (
        api.post(
            f"{API}/checks/{check}/complete/", {"completed_on": today.isoformat()}, format="json"
        ).status_code
        == 409
    )
    result = api.post(
        f"{API}/courses/{course.uuid}/lab-results/",
        {"analyte": "hb", "value": 7.5, "unit": "g/dL", "collected_on": today.isoformat()},
        format="json",
    )
    assert result.status_code == 201 and result.json()["action"] == "interrupt"
    stray = api.post(
        f"{API}/courses/{course.uuid}/lab-results/",
        {
            "analyte": "hb",
            "value": 9,
            "unit": "g/dL",
            "collected_on": today.isoformat(),
            "check": "00000000-0000-4000-8000-000000000000",
        },
        format="json",
    )
    assert stray.status_code == 400 and "check" in stray.json()
    assert result.json()["value"] == "7.5"
    # On treatment, a positive TB screen has no label rule: the answer says so (advise).
    screen = api.post(
        f"{API}/courses/{course.uuid}/lab-results/",
        {"analyte": "igra", "interpretation": "positive", "collected_on": today.isoformat()},
        format="json",
    )
    assert screen.status_code == 201 and screen.json()["action"] == "advise"
    assert screen.json()["interpretation"] == "positive" and screen.json()["value"] == ""
    assert screen.json()["findings"][0]["rule_id"] == "baricitinib.screening.uncovered"
    unread = api.post(
        f"{API}/courses/{course.uuid}/lab-results/",
        {"analyte": "igra", "value": "0.2", "unit": "IU/mL", "collected_on": today.isoformat()},
        format="json",
    )
    assert unread.status_code == 400 and "interpretation" in unread.json()
    listed = api.get(f"{API}/lab-results/", {"course": str(course.uuid)}).json()["results"]
    assert {r["analyte"] for r in listed} == {"anc", "hb", "igra"}
    assert next(r for r in listed if r["analyte"] == "igra")["interpretation"] == "positive"


def test_send_reminder_messages_drugs_and_calendar_link(setup):
    clinic, api, course = setup
    check = course.checks.filter(status="scheduled").first()
    sent = api.post(f"{API}/checks/{check.uuid}/send-reminder/")
    assert sent.status_code == 200 and sent.json()["kind"] == "reminder"
    assert api.post(f"{API}/checks/{check.uuid}/send-reminder/").status_code == 409
    assert (
        api.get(f"{API}/messages/", {"kind": "reminder"}).json()["results"][0]["uuid"]
        == sent.json()["uuid"]
    )
    drugs = api.get(f"{API}/drugs/").json()
    assert {d["code"] for d in drugs} >= {"baricitinib", "tofacitinib"}
    rules = api.get(f"{API}/drugs/baricitinib/").json()["rules"]
    assert all(rule["source"] for rule in rules["thresholds"])
    link = api.post(f"{API}/patients/{course.patient.uuid}/calendar-link/")
    assert link.status_code == 200 and link.json()["webcal"].startswith("webcal://")
    assert api.delete(f"{API}/patients/{course.patient.uuid}/calendar-link/").status_code == 204


def test_pages_are_cursor_based_and_bad_cursors_are_404(setup):
    _, api, course = setup
    first = api.get(f"{API}/checks/", {"page_size": 5}).json()
    second = api.get(first["next"]).json()
    assert (
        len(first["results"]) == 5 and first["results"][-1]["uuid"] != second["results"][0]["uuid"]
    )
    assert api.get(f"{API}/checks/", {"cursor": "cD0yMDI2LTEzLTk5"}).status_code == 404


def test_schema_and_docs_page(setup):
    _, api, _ = setup
    schema = api.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    assert "/api/v1/courses/{uuid}/resume/" in paths
    assert set(paths["/api/v1/courses/{uuid}/resume/"]["post"]["responses"]) >= {
        "200",
        "400",
        "404",
        "409",
    }
    assert api.get("/api/docs/").status_code == 200


def test_api_token_command_issues_and_revokes(setup, capsys):
    call_command("api_token", "doc", "--days", "30")
    token = capsys.readouterr().out.strip()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert client.get(f"{API}/clinics/").status_code == 200
    call_command("api_token", "doc", "--revoke")
    assert client.get(f"{API}/clinics/").status_code == 401


def test_checks_list_rows_are_what_the_serializer_writes(setup):
    """The list reads raw database values (clinics/api/rows.py); each row must still be what
    `CheckSerializer` writes for the check, whatever its state."""
    clinic, api, course = setup
    done = course.checks.filter(kind="cbc").earliest("due_date")
    check_complete(
        check=done,
        completed_on=clinic.today(),
        results=[ResultInput(analyte="hb", value="13.1", unit="g/dL")],
        missing={a: "not_done" for a in done.analytes if a != "hb"},
        confirm_outside_window=True,
    )
    rows = api.get(f"{API}/checks/", {"course": str(course.uuid), "page_size": 500}).json()[
        "results"
    ]
    assert len(rows) == course.checks.count()
    assert {"done", "scheduled"} <= {row["status"] for row in rows}
    assert any(row["analytes"] for row in rows) and any(row["completed_on"] for row in rows)
    for row in rows:
        assert row == api.get(f"{API}/checks/{row['uuid']}/").json()


def test_json_values_names_columns_and_refuses_one_it_cannot_pass_through(setup):
    _, _, course = setup
    patient = course.patient
    rows = json_values(Patient.objects.all(), {"id": "uuid", "mrn": "mrn"})
    assert orjson.loads(orjson.dumps(list(rows))) == [{"id": str(patient.uuid), "mrn": patient.mrn}]
    with pytest.raises(TypeError, match="DateTimeField"):
        list(json_values(Patient.objects.all(), {"uuid": "uuid", "created_at": "created_at"}))
    with pytest.raises(TypeError, match="DateTimeField"):  # refused before any row is read
        list(json_values(Patient.objects.filter(pk__in=[]), {"created_at": "created_at"}))
    assert list(json_values(Patient.objects.filter(pk__in=[]), {"uuid": "uuid"})) == []

    class Sealed(models.TextField):  # a text kind that converts what it reads
        def from_db_value(self, value, expression, connection):
            return value[::-1]

    sealed = Patient.objects.annotate(sealed=Value("x", output_field=Sealed()))
    with pytest.raises(TypeError, match="Sealed"):
        list(json_values(sealed, {"sealed": "sealed"}))


def test_checks_list_renders_in_the_browsable_api_too(setup):
    _, api, course = setup
    page = api.get(f"{API}/checks/", HTTP_ACCEPT="text/html")
    assert page.status_code == 200 and page["Content-Type"].startswith("text/html")
    assert str(course.checks.earliest("due_date", "id").uuid) in page.content.decode()


def test_worklists_dashboard_search_and_no_next_check(setup):
    clinic, api, course = setup
    ClinicFactory(name="Not mine")
    dashboard = api.get(f"{API}/dashboard/").json()
    assert [row["name"] for row in dashboard] == ["Alpha"]
    # Started ten days ago: the baseline checks are overdue, the first follow-ups weeks away.
    assert dashboard[0]["due_this_week"] == 0 and dashboard[0]["no_next_check"] == 0
    soonest = course.checks.filter(status="scheduled").earliest("due_date", "id")
    sixth_day = clinic.today() + timedelta(days=6)
    MonitoringCheck.objects.filter(pk=soonest.pk).update(
        window_start=sixth_day, due_date=sixth_day, window_end=sixth_day
    )
    assert api.get(f"{API}/dashboard/").json()[0]["due_this_week"] == 1
    course.checks.filter(status__in=["scheduled", "overdue"]).update(status="cancelled")
    assert api.get(f"{API}/dashboard/").json()[0]["no_next_check"] == 1
    listed = api.get(f"{API}/courses/", {"no_next_check": "true"}).json()["results"]
    assert [c["uuid"] for c in listed] == [str(course.uuid)]
    assert api.get(f"{API}/courses/", {"no_next_check": "false"}).json()["results"] == []
    found = api.get(f"{API}/patients/", {"search": course.patient.family_name}).json()["results"]
    assert [p["uuid"] for p in found] == [str(course.patient.uuid)]
    assert api.get(f"{API}/patients/", {"search": "nobody-by-this-name"}).json()["results"] == []


@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31", "1900-02-28"])
def test_extreme_dates_are_refused_not_crashed(setup, day):
    clinic, api, course = setup
    patient = PatientFactory(clinic=clinic)
    body = {"drug": "baricitinib", "dose_code": "2mg-qd-us", "indication": "ra", "start_date": day}
    for action in ("preview-course", "start-course"):
        response = api.post(f"{API}/patients/{patient.uuid}/{action}/", body, format="json")
        assert response.status_code == 400 and "start_date" in response.json(), response.content
    check = course.checks.filter(status="scheduled").first()
    done = api.post(f"{API}/checks/{check.uuid}/complete/", {"completed_on": day}, format="json")
    assert done.status_code == 400 and list(done.json()) == ["completed_on"], done.content
    for path, body, field in [
        ("pause/", {"reason": "clinician", "paused_on": day}, "paused_on"),
        ("change-dose/", {"dose_code": "1mg-qd-us", "effective_on": day}, "effective_on"),
        (
            "lab-results/",
            {"analyte": "hb", "value": "9", "unit": "g/dL", "collected_on": day},
            "collected_on",
        ),
    ]:
        response = api.post(f"{API}/courses/{course.uuid}/{path}", body, format="json")
        assert response.status_code == 400 and list(response.json()) == [field], response.content
    course.refresh_from_db()
    assert course.status == "active" and not course.results.exists()


def test_dates_that_are_typing_mistakes_name_their_field(setup):
    clinic, api, course = setup
    url = f"{API}/courses/{course.uuid}"
    cases = [
        (f"{url}/pause/", {"reason": "clinician", "paused_on": "2000-01-01"}, "paused_on"),
        (
            f"{url}/change-dose/",
            {"dose_code": "1mg-qd-us", "effective_on": "9999-12-31"},
            "effective_on",
        ),
        (
            f"{url}/report-infection/",
            {
                "kind": "other",
                "onset_on": "0001-01-01",
                "serious": False,
                "reported_at": "0001-01-01T00:00:00Z",
            },
            "reported_at",
        ),
        (
            f"{url}/lab-results/",
            {"analyte": "hb", "value": "9", "unit": "g/dL", "collected_on": "2001-01-01"},
            "collected_on",
        ),
        (
            f"{API}/checks/{course.checks.filter(status='scheduled').first().uuid}/complete/",
            {"completed_on": "2001-01-01"},
            "completed_on",
        ),
        (
            f"{API}/patients/",
            {
                "clinic": str(clinic.uuid),
                "mrn": "OLD",
                "given_name": "A",
                "family_name": "B",
                "date_of_birth": "0001-01-01",
            },
            "date_of_birth",
        ),
    ]
    for path, body, field in cases:
        response = api.post(path, body, format="json")
        assert response.status_code == 400 and field in response.json(), (path, response.content)
    course.refresh_from_db()
    assert course.status == CourseStatus.ACTIVE and not course.results.exists()


def test_a_role_without_the_right_gets_403_before_the_body_is_read(setup):
    clinic, _, course = setup
    viewer = staff_member_add(
        clinic=clinic,
        username="viv",
        email="viv@example.org",
        role="viewer",
        password="a-long-test-password",
    )
    api = client_for(viewer)
    patient = PatientFactory(clinic=clinic)
    assert (
        api.post(
            f"{API}/patients/{patient.uuid}/start-course/", {"drug": "nope"}, format="json"
        ).status_code
        == 403
    )


def test_paging_through_ties_returns_every_check_once(setup):
    _, api, course = setup
    seen, url = [], f"{API}/checks/?course={course.uuid}&page_size=3"
    while url:
        page = api.get(url).json()
        seen += [row["uuid"] for row in page["results"]]
        url = page["next"]
    assert len(seen) == len(set(seen)) == course.checks.count()  # many share a due date


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's prepared statements")
def test_postgresql_plans_a_repeated_list_query_once_per_connection(setup):
    _, api, _ = setup
    # psycopg prepares a query after five runs; PostgreSQL plans it per run five more times,
    # then keeps one generic plan.
    for _ in range(12):
        assert api.get(f"{API}/checks/", {"status": "scheduled"}).status_code == 200
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement, generic_plans FROM pg_prepared_statements")
        plans = [n for statement, n in cursor.fetchall() if "clinics_monitoringcheck" in statement]
    assert plans and max(plans) > 0


def test_checks_filter_by_care_state_and_dashboard_counts_due_now(setup):
    clinic, api, course = setup
    soonest = course.checks.filter(status="scheduled").earliest("due_date", "id")
    yesterday, later = clinic.today() - timedelta(days=1), clinic.today() + timedelta(days=9)
    MonitoringCheck.objects.filter(pk=soonest.pk).update(
        window_start=yesterday, due_date=yesterday, window_end=later
    )

    def listed(*states):
        rows = api.get(f"{API}/checks/", {"state": states, "limit": 500}).json()["results"]
        return {row["uuid"] for row in rows}

    open_checks = course.checks.filter(status__in=["scheduled", "overdue", "on_hold"])
    baseline = {str(c.uuid) for c in open_checks if c.plan_key.endswith("/baseline")}
    assert listed("due_now") == {str(soonest.uuid)}
    assert listed("overdue") == baseline  # due on the start date, ten days ago: windows closed
    assert listed("upcoming") == {str(c.uuid) for c in open_checks} - baseline - listed("due_now")
    assert listed("due_now", "overdue") == baseline | {str(soonest.uuid)}
    assert listed("on_hold") == set()
    assert api.get(f"{API}/dashboard/").json()[0]["due_now"] == 1
    bad = api.get(f"{API}/checks/", {"state": "late"})
    assert bad.status_code == 400 and list(bad.json()) == ["state"], bad.content


def test_patient_detail_gives_the_care_summary(setup):
    clinic, api, course = setup
    body = api.get(f"{API}/patients/{course.patient.uuid}/").json()
    summary = body["care_summary"]
    first = summary["kinds"][0]
    assert first["state"] == "overdue" and first["overdue_days"] == 10 and not first["last_done"]
    assert summary["line"].startswith("Full blood count, never done, next due ")
    assert summary["line"].split("; ")[0].endswith("overdue by 10 days")
    assert "care_summary" not in api.get(f"{API}/patients/").json()["results"][0]


def test_sample_taken_then_complete_through_the_api(setup):
    clinic, api, course = setup
    check = course.checks.filter(status="scheduled").earliest("due_date", "id")
    url = f"{API}/checks/{check.uuid}"
    today = clinic.today().isoformat()
    bad = api.post(f"{url}/sample-taken/", {"sampled_on": "2000-01-01"}, format="json")
    assert bad.status_code == 400 and list(bad.json()) == ["sampled_on"], bad.content
    taken = api.post(f"{url}/sample-taken/", {"sampled_on": today}, format="json")
    assert taken.status_code == 200, taken.content
    assert (taken.json()["status"], taken.json()["sampled_on"]) == ("pending", today)
    again = api.post(f"{url}/sample-taken/", {"sampled_on": today}, format="json")
    assert again.status_code == 409
    rows = api.get(f"{API}/checks/", {"state": "results_pending"}).json()["results"]
    assert [row["uuid"] for row in rows] == [str(check.uuid)]
    assert api.get(f"{API}/dashboard/").json()[0]["results_pending"] == 1
    lost = api.post(f"{url}/sample-lost/", format="json")
    assert lost.status_code == 200 and lost.json()["sampled_on"] is None
    assert api.post(f"{url}/sample-lost/", format="json").status_code == 409
    assert api.post(f"{url}/sample-taken/", {"sampled_on": today}, format="json").status_code == 200
    body = {"completed_on": today, "confirm_outside_window": True}
    done = api.post(
        f"{url}/complete/",
        {**body, "missing": dict.fromkeys(check.analytes, "sample_lost")},
        format="json",
    )
    assert done.status_code == 200 and done.json()["check"]["status"] == "done", done.content


def test_findings_list_detail_and_decide(setup):
    clinic, api, course = setup
    today = clinic.today()
    recorded = api.post(
        f"{API}/courses/{course.uuid}/lab-results/",
        {"analyte": "anc", "value": "400", "unit": "cells/mm3", "collected_on": today.isoformat()},
        format="json",
    )
    assert recorded.status_code == 201
    listed = api.get(f"{API}/findings/", {"status": ["open", "repeat_ordered"]}).json()["results"]
    assert [(f["action"], f["status"]) for f in listed] == [("interrupt", "open")]
    finding = listed[0]
    assert finding["results"] == [recorded.json()["result"]]
    url = f"{API}/findings/{finding['uuid']}/"
    assert api.get(url).json()["version"] == finding["version"]
    no_reason = api.post(f"{url}decide/", {"decision": "continue"}, format="json")
    assert no_reason.status_code == 400 and "note" in no_reason.json()
    unknown = api.post(f"{url}decide/", {"decision": "ignore"}, format="json")
    assert unknown.status_code == 400 and "decision" in unknown.json()
    stale = {"decision": "repeat", "version": finding["version"] - 1}
    refused = api.post(f"{url}decide/", stale, format="json")
    assert refused.status_code == 409 and "version" in refused.json()
    decided = api.post(
        f"{url}decide/", {"decision": "repeat", "version": finding["version"]}, format="json"
    )
    assert decided.status_code == 200 and decided.json()["status"] == "repeat_ordered"
    repeat = api.get(f"{API}/checks/{decided.json()['repeat_check']}/").json()
    assert repeat["due_date"] == today.isoformat() and repeat["kind"] == "cbc"
    due_now = api.get(f"{API}/checks/", {"state": "due_now"}).json()["results"]
    assert repeat["uuid"] in {c["uuid"] for c in due_now}
    assert api.get(f"{API}/dashboard/").json()[0]["findings"] == 1


def test_a_patient_change_from_an_older_copy_answers_409(setup):
    clinic, api, _ = setup
    patient = PatientFactory(clinic=clinic, email="first@example.org")
    url = f"{API}/patients/{patient.uuid}/"
    read = api.get(url).json()["version"]
    newer = api.patch(url, {"email": "newer@example.org", "version": read}, format="json")
    assert newer.status_code == 200 and newer.json()["version"] == read + 1
    stale = api.patch(url, {"email": "older@example.org", "version": read}, format="json")
    assert stale.status_code == 409
    assert f"now version {read + 1}" in stale.json()["version"][0]
    assert Patient.objects.get(pk=patient.pk).email == "newer@example.org"
    unconditional = api.patch(url, {"given_name": "Ann"}, format="json")  # no version: not checked
    assert unconditional.status_code == 200 and unconditional.json()["version"] == read + 2


def test_a_course_action_from_an_older_copy_answers_409(setup):
    clinic, api, _ = setup
    patient = PatientFactory(clinic=clinic)
    started = api.post(
        f"{API}/patients/{patient.uuid}/start-course/",
        {
            "drug": "baricitinib",
            "dose_code": "2mg-qd-us",
            "indication": "ra",
            "start_date": clinic.today().isoformat(),
        },
        format="json",
    )
    assert started.status_code == 201, started.json()
    url = f"{API}/courses/{started.json()['course']['uuid']}"
    read = api.get(f"{url}/").json()["version"]
    paused = api.post(f"{url}/pause/", {"reason": "clinician", "version": read}, format="json")
    assert paused.status_code == 200 and paused.json()["version"] == read + 1
    stale = api.post(f"{url}/stop/", {"reason": "other", "version": read}, format="json")
    assert stale.status_code == 409 and f"now version {read + 1}" in stale.json()["version"][0]
    assert api.get(f"{url}/").json()["status"] == "paused"


def test_nul_characters_are_refused_naming_the_field(setup):
    """PostgreSQL cannot compare text holding NUL: such input is a 400 naming its field, never a
    database error (schemathesis found one on the drug of a course start)."""
    clinic, api, course = setup
    patient = PatientFactory(clinic=clinic)
    body = {"drug": "bari\x00citinib", "dose_code": "2mg-qd-us", "indication": "ra"}
    body["start_date"] = clinic.today().isoformat()
    for action in ("preview-course", "start-course"):
        response = api.post(f"{API}/patients/{patient.uuid}/{action}/", body, format="json")
        assert response.status_code == 400 and list(response.json()) == ["drug"], response.content
    for path, query in [("patients/", {"search": "a\x00b"}), ("courses/", {"drug": "a\x00b"})]:
        listed = api.get(f"{API}/{path}", query)
        assert listed.status_code == 400 and list(listed.json()) == list(query), listed.content
    assert not patient.courses.exists()


def test_a_retried_infection_report_with_its_idempotency_key_is_the_same_report(setup):
    clinic, api, course = setup
    url = f"{API}/courses/{course.uuid}/report-infection/"
    facts = {"kind": "respiratory", "onset_on": clinic.today().isoformat(), "serious": True}
    key = {"HTTP_IDEMPOTENCY_KEY": "3f1c2a4e-report-1"}
    first = api.post(url, facts, format="json", **key)
    again = api.post(url, facts, format="json", **key)  # the client never saw the first answer
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again["Idempotent-Replayed"] == "true"
    assert course.infections.count() == 1
    alerts = Message.objects.filter(kind="pause_alert_staff")
    assert alerts.count() == 1  # every recipient alerted once
    other = api.post(url, {**facts, "serious": False}, format="json", **key)
    assert other.status_code == 400 and "Idempotency-Key" in other.json()
    bad = api.post(url, facts, format="json", HTTP_IDEMPOTENCY_KEY="with space")
    assert bad.status_code == 400 and "Idempotency-Key" in bad.json()
    assert course.infections.count() == 1


def test_an_idempotency_key_replays_a_refusal_and_belongs_to_its_user(setup):
    clinic, api, course = setup
    url = f"{API}/courses/{course.uuid}/report-infection/"
    key = {"HTTP_IDEMPOTENCY_KEY": "k-2"}
    refused = api.post(url, {"serious": True}, format="json", **key)
    assert refused.status_code == 400 and set(refused.json()) == {"kind", "onset_on"}
    assert api.post(url, {"serious": True}, format="json", **key).json() == refused.json()
    nurse = staff_member_add(
        clinic=clinic,
        username="nurse",
        email="nurse@example.org",
        role="clinician",
        password="a-long-test-password",
    )
    facts = {"kind": "skin", "onset_on": clinic.today().isoformat(), "serious": False}
    assert client_for(nurse).post(url, facts, format="json", **key).status_code == 201


def test_a_failed_message_is_requeued_through_the_api(setup):
    clinic, api, course = setup
    message = Message.objects.create(
        clinic=clinic,
        patient=course.patient,
        course=course,
        recipient="nurse@example.org",
        kind="pause_alert_staff",
        safety=True,
        subject="Course paused",
        dedupe_key="failed/1",
        status="failed",
        send_after=course.created_at,
        message_id="<failed-1@test>",
        last_error="SMTPRecipientsRefused: 550",
    )
    listed = api.get(f"{API}/messages/?status=failed&safety=true").json()["results"]
    assert [m["uuid"] for m in listed] == [str(message.uuid)] and listed[0]["safety"]
    assert api.get(f"{API}/dashboard/").json()[0]["failed_safety"] == 1
    url = f"{API}/messages/{message.uuid}/requeue/"
    requeued = api.post(url, format="json")
    assert requeued.status_code == 200 and requeued.json()["status"] == "queued"
    again = api.post(url, format="json")
    assert again.status_code == 409 and "status" in again.json()


def test_mark_dose_stable_through_the_api(setup):
    clinic, api, _ = setup
    patient = PatientFactory(clinic=clinic)
    body = {
        "drug": "ruxolitinib",
        "dose_code": "10mg-bid",
        "indication": "pv",
        "start_date": (clinic.today() - timedelta(days=70)).isoformat(),
    }
    started = api.post(f"{API}/patients/{patient.uuid}/start-course/", body, format="json")
    course = started.json()["course"]
    url = f"{API}/courses/{course['uuid']}/mark-dose-stable/"
    future = (clinic.today() + timedelta(days=1)).isoformat()
    refused = api.post(url, {"stable_on": future}, format="json")
    assert refused.status_code == 400 and "stable_on" in refused.json()
    done = api.post(url, {"version": course["version"]}, format="json")
    assert done.status_code == 200 and done.json()["dose_stable_on"] == clinic.today().isoformat()
    stored = MonitoringCheck.objects.filter(course__uuid=course["uuid"], status="scheduled")
    assert not stored.filter(plan_key__startswith="cbc/stable-").exists()
    assert stored.filter(kind="cbc").exists()  # the protocol's routine counts go on

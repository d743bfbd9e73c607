"""GET /clinics/{uuid}/startable-drugs/: what the clinic may start, as the admin's start form
offers it; the codes it gives are the ones start-course takes."""

from knox.models import AuthToken
from rest_framework.test import APIClient

from clinics.core.vocab import Role
from clinics.models import Drug, Patient
from clinics.selectors.starts import drugs_startable
from clinics.services.staff import staff_member_add

API = "/api/v1"


def _client(clinic, role=Role.CLINICIAN) -> APIClient:
    user = staff_member_add(
        clinic=clinic, username=f"u-{role}", email="u@example.org", role=role, password="x"
    )
    _, token = AuthToken.objects.create(user=user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


def test_lists_the_clinics_drugs_and_doses(clinic):
    body = _client(clinic, Role.VIEWER).get(f"{API}/clinics/{clinic.uuid}/startable-drugs/").json()
    expected = drugs_startable(clinic=clinic)
    assert [d["drug"] for d in body] == [s.drug.code for s in expected]
    first = body[0]
    assert [d["code"] for d in first["doses"]] == [d.code for d in expected[0].doses]
    assert {"code", "label", "daily_mg", "indications"} <= set(first["doses"][0])
    assert [i["code"] for i in first["indications"]] == [i.code for i in expected[0].indications]


def test_its_codes_start_a_course(clinic, patient):
    client = _client(clinic)
    offered = client.get(f"{API}/clinics/{clinic.uuid}/startable-drugs/").json()
    drug = next(d for d in offered if d["drug"] == "baricitinib")
    indication = drug["indications"][0]["code"]
    dose = next(
        d for d in drug["doses"] if d["indications"] is None or indication in d["indications"]
    )
    started = client.post(
        f"{API}/patients/{patient.uuid}/start-course/",
        {
            "drug": drug["drug"],
            "dose_code": dose["code"],
            "indication": indication,
            "start_date": clinic.today().isoformat(),
        },
        format="json",
    )
    assert started.status_code == 201, started.json()
    assert Patient.objects.get(pk=patient.pk).courses.get().drug == Drug.objects.get(
        code="baricitinib"
    )


def test_another_clinics_list_is_not_found(clinic):
    from tests.support.factories import ClinicFactory

    other = ClinicFactory(name="Other")
    response = _client(clinic).get(f"{API}/clinics/{other.uuid}/startable-drugs/")
    assert response.status_code == 404

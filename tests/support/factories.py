"""factory_boy factories, and bulk fixtures for worker tests and benchmarks (courses otherwise come
from the `course_start` service)."""

from datetime import date, timedelta

import factory
from django.utils import timezone

from clinics.core.vocab import CheckStatus, CourseStatus
from clinics.models import Clinic, Drug, MonitoringCheck, Patient, Protocol, TherapyCourse


class ClinicFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Clinic

    name = factory.Sequence(lambda n: f"Test Clinic {n}")
    jurisdiction = "US"
    time_zone = "America/New_York"
    protocol = factory.LazyFunction(lambda: Protocol.objects.get(code="default"))
    contact_email = "clinic@example.org"


class PatientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Patient

    clinic = factory.SubFactory(ClinicFactory)
    mrn = factory.Sequence(lambda n: f"MRN{n:05d}")
    given_name = "Pat"
    family_name = factory.Sequence(lambda n: f"Testcase{n}")
    date_of_birth = date(1970, 1, 1)
    sex_at_birth = "female"
    email = factory.LazyAttribute(lambda p: f"{p.mrn.lower()}@example.org")
    reminder_consent = True


def patients_with_a_check_due(
    *, clinic: Clinic, count: int, due: date, started: date
) -> list[MonitoringCheck]:
    """`count` consenting patients, each with an active tofacitinib course and one scheduled
    check due on `due`, written with bulk inserts (fixtures for worker tests and benchmarks)."""
    drug = Drug.objects.get(code="tofacitinib")
    version = drug.current_version_id
    patients = Patient.objects.bulk_create(
        Patient(
            clinic=clinic,
            mrn=f"D{n:06d}",
            given_name="Pat",
            family_name=f"Due{n}",
            date_of_birth=date(1970, 1, 1),
            email=f"due{n}@example.org",
            reminder_consent=True,
        )
        for n in range(count)
    )
    courses = TherapyCourse.objects.bulk_create(
        TherapyCourse(
            patient=p,
            drug=drug,
            rules_version_id=version,
            dose_code="5mg-bid",
            indication="ra",
            start_date=started,
            status=CourseStatus.ACTIVE,
            status_changed_at=timezone.now(),
        )
        for p in patients
    )
    return MonitoringCheck.objects.bulk_create(
        MonitoringCheck(
            course=c,
            kind="cbc",
            plan_key="cbc/start+4w",
            due_date=due,
            window_start=due,
            window_end=due + timedelta(days=14),
            status=CheckStatus.SCHEDULED,
            rule_ids=["tofacitinib.cbc.anc-hb"],
            why="fixture",
            verified=True,
            analytes=["anc"],
            rules_version_id=version,
        )
        for c in courses
    )

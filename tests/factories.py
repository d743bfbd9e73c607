"""factory_boy factories for the domain models (courses come from the `course_start` service)."""

from datetime import date

import factory

from clinics.models import Clinic, Patient, Protocol


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

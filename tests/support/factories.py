"""factory_boy factories, and bulk fixtures for worker tests and benchmarks (courses otherwise come
from the `course_start` service)."""

from datetime import date, timedelta
from typing import Any

import factory
from django.utils import timezone

from clinics.core.vocab import CheckStatus, CourseStatus, InfectionKind, MissingReason
from clinics.models import Clinic, Drug, MonitoringCheck, Patient, Protocol, TherapyCourse


def tofacitinib_course(*, patient: Patient, start_date: date) -> TherapyCourse:
    """Tofacitinib 5 mg twice daily for RA, started through the service as staff would."""
    from clinics.services.courses import course_start

    return course_start(
        patient=patient,
        drug=Drug.objects.get(code="tofacitinib"),
        dose_code="5mg-bid",
        indication="ra",
        start_date=start_date,
    ).course


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


def patients_with_checks_spread(
    *, clinic: Clinic, count: int, checks_each: int, started: date, days: int
) -> list[MonitoringCheck]:
    """`count` patients as `patients_with_a_check_due` makes them, their courses started on
    `started`, each with `checks_each` scheduled checks due over the `days` from `started` (the
    n-th patient's k-th check on day (7n + 18k) mod `days`): long lists for benchmarks."""

    def due_on(check: MonitoringCheck, n: int, k: int) -> MonitoringCheck:
        check.due_date = check.window_start = started + timedelta(days=(7 * n + 18 * k) % days)
        check.window_end = check.due_date + timedelta(days=14)
        return check

    firsts = patients_with_a_check_due(clinic=clinic, count=count, due=started, started=started)
    MonitoringCheck.objects.bulk_update(
        [due_on(check, n, 0) for n, check in enumerate(firsts)],
        ["due_date", "window_start", "window_end"],
        batch_size=2000,
    )
    more = MonitoringCheck.objects.bulk_create(
        (
            due_on(
                MonitoringCheck(
                    course_id=first.course_id,
                    kind=first.kind,
                    plan_key=f"{first.plan_key}/{k}",
                    status=first.status,
                    rule_ids=first.rule_ids,
                    why=first.why,
                    verified=first.verified,
                    analytes=first.analytes,
                    rules_version_id=first.rules_version_id,
                ),
                n,
                k,
            )
            for n, first in enumerate(firsts)
            for k in range(1, checks_each)
        ),
        batch_size=5000,
    )
    return firsts + more


def without_values(check: MonitoringCheck) -> dict[str, Any]:
    """`check_complete(**without_values(check))`: done with no values (each analyte "not done"),
    on whatever day the test says, in the check's window or not (for tests about other things)."""
    return {
        "missing": dict.fromkeys(check.analytes, MissingReason.NOT_DONE),
        "confirm_outside_window": True,
    }


def infection_facts(course: TherapyCourse) -> dict[str, Any]:
    """`infection_report(**infection_facts(course), ...)`: a respiratory infection that began on
    the clinic's today (for tests about what a report does, not what it says)."""
    return {"kind": InfectionKind.RESPIRATORY, "onset_on": course.patient.clinic.today()}

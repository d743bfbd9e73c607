"""One clinic with an object in every state the API's endpoints act on (active, paused and
infected courses, a check, a result, a report, a message)."""

from dataclasses import dataclass
from datetime import timedelta

from clinics.models import Drug
from clinics.services.checks import check_sample_taken
from clinics.services.courses import course_pause, course_start
from clinics.services.infections import infection_report
from clinics.services.results import lab_result_record
from tests.support.factories import PatientFactory, infection_facts


@dataclass
class World:
    """One clinic's objects, each in the state its endpoints need."""

    clinic: object
    patient: object  # with an active course
    new_patient: object  # no course yet
    course: object  # active, with open checks
    paused: object  # paused by a clinician, ready to resume
    check: object
    sampled: object  # its sample taken, results pending
    result: object
    report: object  # unresolved infection on its own course
    message: object
    finding: object  # open: an interrupt result on the active course


def world(clinic) -> World:
    drug = Drug.objects.get(code="baricitinib")
    start = clinic.today() - timedelta(days=10)

    def course():
        patient = PatientFactory(clinic=clinic)
        return course_start(
            patient=patient, drug=drug, dose_code="2mg-qd-us", indication="ra", start_date=start
        ).course

    active, paused, infected = course(), course(), course()
    course_pause(course=paused, reason="clinician")
    report = infection_report(
        course=infected, **infection_facts(infected), serious=False, reporter="staff"
    ).report
    return World(
        clinic=clinic,
        patient=active.patient,
        new_patient=PatientFactory(clinic=clinic),
        course=active,
        paused=paused,
        check=active.checks.filter(status="scheduled").order_by("due_date").first(),
        sampled=check_sample_taken(
            check=active.checks.filter(status="scheduled").order_by("-due_date").first(),
            sampled_on=clinic.today(),
        ),
        result=lab_result_record(
            course=active, analyte="hb", value="13", unit="g/dL", collected_on=clinic.today()
        ).result,
        report=report,
        message=infected.messages.first(),
        finding=lab_result_record(
            course=active, analyte="anc", value="400", unit="cells/mm3", collected_on=clinic.today()
        ).result.finding,
    )

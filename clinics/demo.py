"""The demo clinic: fictional patients on each JAK inhibitor, entered as a clinic enters its
existing patients, one of them paused for infection and one with a result awaiting a decision."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, timedelta

from django.contrib.auth.models import User
from django.db import transaction

from .core.vocab import TO_DO_CHECKS, InfectionKind, Reporter, Role
from .models import CalendarFeed, Clinic, Drug, Patient, Protocol
from .rulebook import drug_rules
from .services.calendar_feeds import calendar_feed_issue
from .services.checks import check_complete, check_sample_taken
from .services.courses import course_start
from .services.infections import infection_report
from .services.results import ResultInput, lab_result_record
from .services.staff import staff_member_add

DEMO_CLINIC = "Demo Rheumatology Clinic"
DEMO_USER = "demo-nurse"
DEMO_ZONE = "Europe/London"

# (MRN, given, family, birth date, sex, drug, dose, indication, days since start)
_PATIENTS = [
    (
        "DEMO-0001",
        "Alex",
        "Example",
        date(1961, 4, 2),
        "female",
        "tofacitinib",
        "5mg-bid",
        "ra",
        200,
    ),
    ("DEMO-0002", "Sam", "Sample", date(1975, 9, 14), "male", "baricitinib", None, "ra", 40),
    ("DEMO-0003", "Jo", "Placeholder", date(1988, 1, 30), "female", "upadacitinib", None, "ra", 90),
    ("DEMO-0004", "Robin", "Testperson", date(1993, 6, 5), "female", "abrocitinib", None, "ad", 10),
    ("DEMO-0005", "Kim", "Dummy", date(1999, 11, 21), "male", "ritlecitinib", None, "aa", 28),
    ("DEMO-0006", "Lee", "Fiction", date(1969, 3, 8), "male", "filgotinib", None, "ra", 120),
]


@dataclass(frozen=True)
class DemoLogin:
    clinic: Clinic
    username: str
    password: str
    patients: int
    staff_feed: CalendarFeed
    patient_feed: CalendarFeed


@transaction.atomic
def demo_setup(*, today: date) -> DemoLogin:
    """Create (once) the demo clinic and patients; always issue a fresh password for the login.

    Names and MRNs are obviously fictional (DEMO-…). Every course is entered today although it
    started earlier, as a clinic enters the patients it already has: baseline checks are marked
    done with normal results, DEMO-0001's last blood count and liver tests were done elsewhere
    100 days ago, and whatever each course missed since its start is caught up by a check due
    now. DEMO-0001 also has a neutrophil count at the label's interrupt level (an open finding),
    DEMO-0002 a sample awaiting its results and DEMO-0003 a reported infection, so the first
    login shows done, due now, catch-up, overdue, results pending and on-hold checks and a
    finding to decide. Every patient and the staff login get a calendar feed
    (kept across runs, so subscribed demo calendars keep working).
    """
    clinic, created = Clinic.objects.get_or_create(
        name=DEMO_CLINIC,
        defaults={
            "jurisdiction": "UK",
            "time_zone": DEMO_ZONE,
            "protocol": Protocol.objects.get(code="default"),
            "contact_email": "clinic@example.org",
            "contact_phone": "+44 20 7946 0000",
        },
    )
    password = secrets.token_urlsafe(12)
    nurse = staff_member_add(
        clinic=clinic,
        username=DEMO_USER,
        email="nurse@example.org",
        role=Role.CLINICIAN,
        password=password,
    )
    if created:
        for mrn, given, family, dob, sex, drug_code, dose, indication, days in _PATIENTS:
            _enrol(
                clinic,
                mrn,
                given,
                family,
                dob,
                sex,
                drug_code,
                dose,
                indication,
                today - timedelta(days=days),
            )
        # DEMO-0002's 4-week bloods are due now (since day 28 of 40): the renal sample was taken
        # today and its results are pending; the blood count and liver tests are still due.
        sampled = Patient.objects.get(clinic=clinic, mrn="DEMO-0002").courses.get()
        check_sample_taken(
            check=sampled.checks.filter(
                kind="renal", status__in=TO_DO_CHECKS, due_date__lte=today
            ).earliest("due_date", "id"),
            sampled_on=today,
        )
        # A neutrophil count at the label's interrupt level: a finding for a clinician to decide.
        lab_result_record(
            course=Patient.objects.get(clinic=clinic, mrn="DEMO-0001").courses.get(),
            analyte="anc",
            value="800",
            unit="cells/mm3",
            collected_on=today - timedelta(days=1),
        )
        infected = Patient.objects.get(clinic=clinic, mrn="DEMO-0003").courses.get()
        infection_report(
            course=infected,
            kind=InfectionKind.RESPIRATORY,
            onset_on=today - timedelta(days=2),
            serious=True,
            reporter=Reporter.STAFF,
            description="Demo: chest infection",
        )
    first = clinic.patients.get(mrn=_PATIENTS[0][0])
    return DemoLogin(
        clinic,
        DEMO_USER,
        password,
        clinic.patients.count(),
        staff_feed=_live_feed(user=nurse),
        patient_feed=_live_feed(patient=first),
    )


def _live_feed(*, patient: Patient | None = None, user: User | None = None) -> CalendarFeed:
    live = CalendarFeed.objects.filter(revoked_at__isnull=True)
    feed = (live.filter(patient=patient) if patient else live.filter(user=user)).first()
    return feed or calendar_feed_issue(patient=patient, user=user)


def _enrol(
    clinic: Clinic,
    mrn: str,
    given: str,
    family: str,
    dob: date,
    sex: str,
    drug_code: str,
    dose: str | None,
    indication: str,
    start: date,
) -> None:
    patient = Patient.objects.create(
        clinic=clinic,
        mrn=mrn,
        given_name=given,
        family_name=family,
        date_of_birth=dob,
        sex_at_birth=sex,
        email=f"{mrn.lower()}@example.org",
        reminder_consent=True,
    )
    drug = Drug.objects.get(code=drug_code)
    dose = dose or drug_rules(drug=drug).doses[0].code
    last_done = start + timedelta(days=100)  # DEMO-0001: bloods done elsewhere since its start
    started = course_start(
        patient=patient,
        drug=drug,
        dose_code=dose,
        indication=indication,
        start_date=start,
        done_elsewhere={"cbc": last_done, "liver": last_done} if mrn == "DEMO-0001" else None,
    )
    calendar_feed_issue(patient=patient)
    baseline = started.course.checks.filter(window_end__lte=start, status__in=TO_DO_CHECKS)
    for check in baseline:
        check_complete(
            check=check,
            completed_on=max(check.window_start, start - timedelta(days=7)),
            results=[ResultInput(a, *UNREMARKABLE_VALUES[a]) for a in check.analytes],
        )


# Unremarkable (fictional) demo values in units labs report: (value, unit, screening reading).
UNREMARKABLE_VALUES = {
    "anc": ("3.5", "10^9/L", ""),
    "alc": ("1.8", "10^9/L", ""),
    "hb": ("13.2", "g/dL", ""),
    "platelets": ("250", "10^9/L", ""),
    "wbc": ("6.5", "10^9/L", ""),
    "alt": ("0.6", "xULN", ""),
    "ast": ("0.5", "xULN", ""),
    "total_cholesterol": ("4.9", "mmol/L", ""),
    "ldl": ("2.8", "mmol/L", ""),
    "hdl": ("1.4", "mmol/L", ""),
    "triglycerides": ("1.3", "mmol/L", ""),
    "creatinine": ("78", "umol/L", ""),
    "egfr": ("92", "mL/min/1.73m2", ""),
    "crcl": ("96", "mL/min", ""),
    "hbsag": ("0.3", "S/CO", "negative"),
    "anti_hbc": ("0.2", "S/CO", "negative"),
    "hcv_ab": ("0.1", "S/CO", "negative"),
    "igra": ("0.05", "IU/mL", "negative"),
    "tst": ("0", "mm", "negative"),
    "hcg": ("1", "mIU/mL", "negative"),
}

"""Benchmark: the staff findings list (first page of 100 rows) and the dashboard with 10,000
patients against the same pages with 100, through Django's test client, logged in as a clinic's
staff.

Each patient has an active course with one open finding (an interrupt-level neutrophil count
awaiting a clinician's decision) and the result behind it; a tenth of the findings are escalated.
Both pages should cost the same whatever the list's length (paging, counts in one query each, no
per-row queries). The figure is the findings page plus the dashboard, each a median of repeated
requests. Runs on a throw-away SQLite database, or on BENCH_DATABASE_URL (an empty database of its
own). Last line:
{"metric": "findings", "value": <ms>, "unit": "ms", "baseline": <ms at 100>, "ratio": R}

    .venv/bin/python bench/findings.py [--large 10000] [--small 100] [--requests 30]
"""

from datetime import timedelta

import harness

harness.django_setup(ALLOWED_HOSTS="testserver", LOG_LEVEL="WARNING", DEBUG="1")

from django.test import Client  # noqa: E402
from django.utils import timezone  # noqa: E402

from clinics.core.vocab import OutcomeAction  # noqa: E402
from clinics.models import Finding, LabResult, TherapyCourse  # noqa: E402
from clinics.services.staff import staff_member_add  # noqa: E402
from tests.support.factories import ClinicFactory, patients_with_a_check_due  # noqa: E402

PAGES = ("/admin/clinics/openfinding/", "/admin/")


def clinic_with_findings(name: str, count: int, username: str) -> Client:
    clinic = ClinicFactory(name=name)
    today = clinic.today()
    checks = patients_with_a_check_due(
        clinic=clinic,
        count=count,
        due=today - timedelta(days=3),
        started=today - timedelta(days=60),
    )
    courses = TherapyCourse.objects.filter(pk__in=[c.course_id for c in checks])
    now = timezone.now()
    findings = Finding.objects.bulk_create(
        (
            Finding(
                course_id=check.course_id,
                monitoring_check=check,
                collected_on=today - timedelta(days=1),
                action=OutcomeAction.INTERRUPT,
                opened_at=now,
                escalated_at=now if n % 10 == 0 else None,
            )
            for n, check in enumerate(checks)
        ),
        batch_size=2000,
    )
    LabResult.objects.bulk_create(
        (
            LabResult(
                course_id=f.course_id,
                monitoring_check=f.monitoring_check,
                analyte="anc",
                value=800,
                unit="cells/mm3",
                collected_on=f.collected_on,
                outcome_action=OutcomeAction.INTERRUPT,
                finding=f,
            )
            for f in findings
        ),
        batch_size=2000,
    )
    assert courses.count() == count
    staff_member_add(
        clinic=clinic,
        username=username,
        email=f"{username}@example.org",
        role="viewer",
        password="bench-password-long",
    )
    client = Client()
    assert client.login(username=username, password="bench-password-long")
    listed = client.get(PAGES[0]).content.decode()
    assert f"{count} Worklist: findings awaiting a decision" in listed, "rows not listed"
    return client


def pages_ms(client: Client, requests: int) -> float:
    """The findings page's and the dashboard's median times of `requests` requests, summed,
    after one of each to warm up."""
    total = 0.0
    for page in PAGES:

        def get(page: str = page) -> None:
            response = client.get(page)
            assert response.status_code == 200, page

        get()
        total += harness.median_ms(get, requests)
    return total


def main():
    harness.clinics_compared(
        metric="findings",
        what="findings list + dashboard",
        clinic_with=clinic_with_findings,
        measure=pages_ms,
    )


if __name__ == "__main__":
    main()

"""Benchmark: the staff overdue worklist page (first page of 100 rows) with 10,000 patients
against the same page with 100, through Django's test client, logged in as a clinic's staff.

Each patient has an active course with one overdue check. The page should cost the same whatever
the list's length (paging, no per-row queries). Runs on a throw-away SQLite database, or on
BENCH_DATABASE_URL (an empty database of its own). Last line:
{"metric": "admin_overdue", "value": <ms>, "unit": "ms", "baseline": <ms at 100>, "ratio": R}

    .venv/bin/python bench/admin.py [--large 10000] [--small 100] [--requests 30]
"""

from datetime import timedelta

import harness

harness.django_setup(
    ALLOWED_HOSTS="testserver",
    LOG_LEVEL="WARNING",
    DEBUG="1",  # static files without collectstatic; templates are cached all the same
)

from django.test import Client  # noqa: E402

from clinics.core.vocab import CheckStatus  # noqa: E402
from clinics.models import MonitoringCheck  # noqa: E402
from clinics.services.staff import staff_member_add  # noqa: E402
from tests.support.factories import ClinicFactory, patients_with_a_check_due  # noqa: E402

PAGE = "/admin/clinics/overduecheck/"


def clinic_with_overdue(name: str, count: int, username: str) -> Client:
    clinic = ClinicFactory(name=name)
    today = clinic.today()
    checks = patients_with_a_check_due(
        clinic=clinic,
        count=count,
        due=today - timedelta(days=20),
        started=today - timedelta(days=60),
    )
    for start in range(0, count, 2000):
        MonitoringCheck.objects.filter(pk__in=[c.pk for c in checks[start : start + 2000]]).update(
            status=CheckStatus.OVERDUE,
            window_start=today - timedelta(days=27),
            window_end=today - timedelta(days=6),
        )
    staff_member_add(
        clinic=clinic,
        username=username,
        email=f"{username}@example.org",
        role="viewer",
        password="bench-password-long",
    )
    client = Client()
    assert client.login(username=username, password="bench-password-long")
    return client


def page_ms(client: Client, requests: int) -> float:
    """The median time of `requests` requests for the page, after one to warm up."""

    def get() -> None:
        assert client.get(PAGE).status_code == 200

    get()
    return harness.median_ms(get, requests)


def main():
    harness.clinics_compared(
        metric="admin_overdue",
        what="overdue worklist, first page",
        clinic_with=clinic_with_overdue,
        measure=page_ms,
    )


if __name__ == "__main__":
    main()

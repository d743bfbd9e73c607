"""Benchmark: the staff overdue worklist page (first page of 100 rows) with 10,000 patients
against the same page with 100, through Django's test client, logged in as a clinic's staff.

Each patient has an active course with one overdue check. The page should cost the same whatever
the list's length (paging, no per-row queries). Runs on a throw-away SQLite database, or on
BENCH_DATABASE_URL (an empty database of its own). Last line:
{"metric": "admin_overdue", "value": <ms>, "unit": "ms", "baseline": <ms at 100>, "ratio": R}

    .venv/bin/python bench/admin.py [--large 10000] [--small 100] [--requests 30]
"""

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
_tmp = tempfile.TemporaryDirectory(prefix="jakmonitor-bench-")
os.environ.update(
    DJANGO_SETTINGS_MODULE="jakmonitor.settings",
    SECRET_KEY="bench-only",
    DATABASE_URL=os.environ.get("BENCH_DATABASE_URL", f"sqlite:///{_tmp.name}/bench.sqlite3"),
    JAKMONITOR_VAR_DIR=_tmp.name,
    ALLOWED_HOSTS="testserver",
    LOG_LEVEL="WARNING",
    DEBUG="1",  # static files without collectstatic; templates are cached all the same
)

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.test import Client  # noqa: E402
from django.utils import timezone  # noqa: E402

from clinics.core.vocab import CheckStatus  # noqa: E402
from clinics.models import Clinic, MonitoringCheck, Patient, Protocol  # noqa: E402
from clinics.services.seeds import rules_load  # noqa: E402
from clinics.services.staff import staff_member_add  # noqa: E402
from tests.support.factories import patients_with_a_check_due  # noqa: E402

PAGE = "/admin/clinics/overduecheck/"


def clinic_with_overdue(name: str, count: int, username: str) -> Client:
    clinic = Clinic.objects.create(
        name=name,
        jurisdiction="US",
        time_zone="America/New_York",
        protocol=Protocol.objects.get(code="default"),
    )
    today = timezone.localdate()
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


def median_ms(client: Client, requests: int) -> float:
    client.get(PAGE)  # warm up
    times = []
    for _ in range(requests):
        start = time.perf_counter()
        response = client.get(PAGE)
        times.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200
    return statistics.median(times)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--large", type=int, default=10_000)
    parser.add_argument("--small", type=int, default=100)
    parser.add_argument("--requests", type=int, default=30)
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    if Patient.objects.exists():
        sys.exit("BENCH_DATABASE_URL must name an empty database of its own")
    rules_load()
    small = clinic_with_overdue("Small clinic", args.small, "small")
    large = clinic_with_overdue("Large clinic", args.large, "large")
    baseline, value = [], []
    for _ in range(3):  # interleaved, so drift affects both alike
        baseline.append(median_ms(small, args.requests))
        value.append(median_ms(large, args.requests))
    base, big = statistics.median(baseline), statistics.median(value)
    print(
        f"overdue worklist, first page: {args.small} patients {base:.1f} ms, "
        f"{args.large} patients {big:.1f} ms"
    )
    print(
        json.dumps(
            {
                "metric": "admin_overdue",
                "value": round(big, 2),
                "unit": "ms",
                "baseline": round(base, 2),
                "ratio": round(big / base, 2),
            }
        )
    )


if __name__ == "__main__":
    main()

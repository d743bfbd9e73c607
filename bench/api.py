"""Benchmark: `GET /api/v1/checks/?due_before=...` returning a page of 100 checks out of 100,000,
against a DRF view returning the same 100 rows prebuilt, both through the full stack (Django's
test client, the same token authentication) as a clinician of the clinic.

The figure is what filtering, scoping, cursor paging and serializing add to answering with the
same bytes. The tables are ANALYZEd after the bulk load (PostgreSQL's autovacuum does so by
itself; SQLite plans without statistics otherwise). Runs on a throw-away SQLite database, or on BENCH_DATABASE_URL (an empty database of
its own). Last line:
{"metric": "api_checks", "value": <ms>, "unit": "ms", "baseline": <ms>, "ratio": R}

    .venv/bin/python bench/api.py [--checks 100000] [--requests 30]
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
)

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client, override_settings  # noqa: E402
from django.urls import include, path  # noqa: E402
from django.utils import timezone  # noqa: E402
from knox.models import AuthToken  # noqa: E402
from rest_framework.response import Response  # noqa: E402
from rest_framework.views import APIView  # noqa: E402

from clinics.api.permissions import IsStaff  # noqa: E402
from clinics.lifecycle import CheckStatus, CourseStatus  # noqa: E402
from clinics.models import (  # noqa: E402
    Clinic,
    Drug,
    MonitoringCheck,
    Patient,
    Protocol,
    TherapyCourse,
)
from clinics.services.rules import rules_load  # noqa: E402
from clinics.services.staff import staff_member_add  # noqa: E402

PREBUILT: dict = {}


class PrebuiltChecks(APIView):
    """The baseline: the same page, already built, behind the same authentication."""

    permission_classes = [IsStaff]

    def get(self, request):
        return Response(PREBUILT)


urlpatterns = [
    path("api/", include("clinics.api.urls")),
    path("baseline/checks/", PrebuiltChecks.as_view()),
]


def populate(checks: int) -> tuple[Clinic, int]:
    """A clinic of patients on tofacitinib, 40 checks each, due over the next two years."""
    clinic = Clinic.objects.create(name="Bench clinic", jurisdiction="US", time_zone="America/New_York",
                                   protocol=Protocol.objects.get(code="default"))  # fmt: skip
    drug = Drug.objects.get(code="tofacitinib")
    version = drug.current_version_id
    today = timezone.localdate()
    per_course = 40
    patients = Patient.objects.bulk_create(
        (Patient(clinic=clinic, mrn=f"B{n:07d}", given_name="Pat", family_name=f"Bench{n}",
                 date_of_birth=today.replace(year=1970), email=f"b{n}@example.org")
         for n in range(checks // per_course)), batch_size=2000,
    )  # fmt: skip
    courses = TherapyCourse.objects.bulk_create(
        (TherapyCourse(patient=p, drug=drug, rules_version_id=version, dose_code="5mg-bid",
                       indication="ra", start_date=today, status=CourseStatus.ACTIVE,
                       status_changed_at=timezone.now()) for p in patients), batch_size=2000,
    )  # fmt: skip
    MonitoringCheck.objects.bulk_create(
        (MonitoringCheck(course=c, kind="cbc", plan_key=f"cbc/{k}", due_date=due, window_start=due,
                         window_end=due + timedelta(days=14), status=CheckStatus.SCHEDULED,
                         rule_ids=["tofacitinib.cbc"], why="bench", verified=True, analytes=["anc"],
                         rules_version_id=version)
         for i, c in enumerate(courses) for k in range(per_course)
         for due in [today + timedelta(days=(i * 7 + k * 18) % 730)]), batch_size=5000,
    )  # fmt: skip
    return clinic, MonitoringCheck.objects.count()


def median_ms(client: Client, url: str, requests: int, token: str) -> float:
    client.get(url, HTTP_AUTHORIZATION=f"Token {token}")  # warm up
    times = []
    for _ in range(requests):
        start = time.perf_counter()
        response = client.get(url, HTTP_AUTHORIZATION=f"Token {token}")
        times.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, response.content[:200]
    return statistics.median(times)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--checks", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=30)
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    if Patient.objects.exists():
        sys.exit("BENCH_DATABASE_URL must name an empty database of its own")
    rules_load()
    clinic, total = populate(args.checks)
    with connection.cursor() as cursor:  # statistics, as PostgreSQL's autovacuum would gather
        cursor.execute("ANALYZE")
    user = staff_member_add(clinic=clinic, username="bench", email="bench@example.org",
                            role="clinician", password="bench-password-long")  # fmt: skip
    token = AuthToken.objects.create(user=user)[1]
    due_before = (timezone.localdate() + timedelta(days=365)).isoformat()
    url = f"/api/v1/checks/?due_before={due_before}"
    client = Client()
    with override_settings(ROOT_URLCONF=__name__):
        page = client.get(url, HTTP_AUTHORIZATION=f"Token {token}").json()
        assert len(page["results"]) == 100
        PREBUILT.update(page)
        api, baseline = [], []
        for _ in range(3):  # interleaved, so drift affects both alike
            baseline.append(median_ms(client, "/baseline/checks/", args.requests, token))
            api.append(median_ms(client, url, args.requests, token))
    value, base = statistics.median(api), statistics.median(baseline)
    print(f"checks page of 100 among {total} checks: API {value:.1f} ms, prebuilt {base:.1f} ms")
    print(json.dumps({"metric": "api_checks", "value": round(value, 2), "unit": "ms",
                      "baseline": round(base, 2), "ratio": round(value / base, 2)}))  # fmt: skip


if __name__ == "__main__":
    main()

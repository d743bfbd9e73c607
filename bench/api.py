"""Benchmark: `GET /api/v1/checks/?due_before=...` returning a page of 100 checks out of 100,000,
against a DRF view returning the same 100 rows prebuilt, both behind the same token
authentication, as a clinician of the clinic, through a real server (gunicorn, one worker,
keep-alive, as bench/feeds.py) as a client sees them. The same two through Django's in-process
test client are printed too (no server: the framework's own share is larger there).

The figures are median times per request, as the target asks: the two requests alternate, one
each in turn, so both meet the same machine (a shared host's noise comes in bursts longer than a
request), and the median of each is taken over all of its requests.

The figure is what filtering, scoping, cursor paging and serializing add to answering with the
same bytes. The tables are ANALYZEd after the bulk load (PostgreSQL's autovacuum does so by
itself; SQLite plans without statistics otherwise). Runs on a throw-away SQLite database, or on
BENCH_DATABASE_URL (an empty database of its own). Last line:
{"metric": "api_checks", "value": <ms>, "unit": "ms", "baseline": <ms>, "ratio": R}

    .venv/bin/python bench/api.py [--checks 100000] [--requests 1000]
"""

import argparse
import http.client
import json
import os
import sys
import tempfile
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
_tmp = tempfile.TemporaryDirectory(prefix="jakmonitor-bench-")
os.environ.update(
    DJANGO_SETTINGS_MODULE="jakmonitor.settings",
    SECRET_KEY="bench-only",
    DATABASE_URL=os.environ.get("BENCH_DATABASE_URL", f"sqlite:///{_tmp.name}/bench.sqlite3"),
    JAKMONITOR_VAR_DIR=_tmp.name,
    ALLOWED_HOSTS="testserver,127.0.0.1",
    LOG_LEVEL="WARNING",
)

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.utils import timezone  # noqa: E402
from knox.models import AuthToken  # noqa: E402

from bench.http_timing import free_port, rounds, serve  # noqa: E402
from clinics.core.vocab import CheckStatus, CourseStatus  # noqa: E402
from clinics.models import Clinic, Drug, MonitoringCheck, Patient, Protocol, TherapyCourse  # noqa: E402
from clinics.services.seeds import rules_load  # noqa: E402
from clinics.services.staff import staff_member_add  # noqa: E402


def populate(checks: int) -> tuple[Clinic, int]:
    """A clinic of patients on tofacitinib, 40 checks each, due over the next two years."""
    clinic = Clinic.objects.create(
        name="Bench clinic",
        jurisdiction="US",
        time_zone="America/New_York",
        protocol=Protocol.objects.get(code="default"),
    )
    drug = Drug.objects.get(code="tofacitinib")
    version = drug.current_version_id
    today = timezone.localdate()
    per_course = 40
    patients = Patient.objects.bulk_create(
        (
            Patient(
                clinic=clinic,
                mrn=f"B{n:07d}",
                given_name="Pat",
                family_name=f"Bench{n}",
                date_of_birth=today.replace(year=1970),
                email=f"b{n}@example.org",
            )
            for n in range(checks // per_course)
        ),
        batch_size=2000,
    )
    courses = TherapyCourse.objects.bulk_create(
        (
            TherapyCourse(
                patient=p,
                drug=drug,
                rules_version_id=version,
                dose_code="5mg-bid",
                indication="ra",
                start_date=today,
                status=CourseStatus.ACTIVE,
                status_changed_at=timezone.now(),
            )
            for p in patients
        ),
        batch_size=2000,
    )
    MonitoringCheck.objects.bulk_create(
        (
            MonitoringCheck(
                course=c,
                kind="cbc",
                plan_key=f"cbc/{k}",
                due_date=due,
                window_start=due,
                window_end=due + timedelta(days=14),
                status=CheckStatus.SCHEDULED,
                rule_ids=["tofacitinib.cbc"],
                why="bench",
                verified=True,
                analytes=["anc"],
                rules_version_id=version,
            )
            for i, c in enumerate(courses)
            for k in range(per_course)
            for due in [today + timedelta(days=(i * 7 + k * 18) % 730)]
        ),
        batch_size=5000,
    )
    return clinic, MonitoringCheck.objects.count()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--checks", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=1000, help="of each, alternating")
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    if Patient.objects.exists():
        sys.exit("BENCH_DATABASE_URL must name an empty database of its own")
    rules_load()
    clinic, total = populate(args.checks)
    with connection.cursor() as cursor:  # statistics, as PostgreSQL's autovacuum would gather
        cursor.execute("ANALYZE")
    user = staff_member_add(
        clinic=clinic,
        username="bench",
        email="bench@example.org",
        role="clinician",
        password="bench-password-long",
    )
    auth = {"Authorization": f"Token {AuthToken.objects.create(user=user)[1]}"}
    due_before = (timezone.localdate() + timedelta(days=365)).isoformat()
    api_path = f"/api/v1/checks/?due_before={due_before}"
    client = Client()
    page = client.get(api_path, headers=auth)
    assert page.status_code == 200 and len(page.json()["results"]) == 100
    page_file = Path(_tmp.name) / "page.json"
    page_file.write_bytes(page.content)
    os.environ["BENCH_API_PAGE"] = str(page_file)
    paths = {"prebuilt": ("/bench/checks/", auth, 200), "api": (api_path, auth, 200)}

    port = free_port()
    server = serve("bench.api_server:application", port)
    try:
        server_connection = http.client.HTTPConnection("127.0.0.1", port)

        def over_http(path, headers):
            server_connection.request("GET", path, headers=headers)
            response = server_connection.getresponse()
            return response.status, response.read()

        served = json.loads(over_http(api_path, auth)[1])
        assert served["results"] == page.json()["results"]  # (links name the host asked)
        real = rounds(over_http, paths, 1, args.requests)
    finally:
        server.terminate()
        server.wait()

    from bench import api_server  # the same URLs, in this process, for the test client

    settings.ROOT_URLCONF = api_server.__name__

    def in_process(path, headers):
        response = client.get(path, headers=headers)
        return response.status_code, response.content

    local = rounds(in_process, paths, 1, args.requests // 3)
    print(f"a page of 100 checks among {total}; database {settings.DATABASES['default']['ENGINE']}")
    for label, figures in (("gunicorn", real), ("test client", local)):
        print(
            f"{label}: prebuilt {figures['prebuilt']:.2f} ms, API {figures['api']:.2f} ms "
            f"(x{figures['api'] / figures['prebuilt']:.2f})"
        )
    print(
        json.dumps(
            {
                "metric": "api_checks",
                "value": round(real["api"], 2),
                "unit": "ms",
                "baseline": round(real["prebuilt"], 2),
                "ratio": round(real["api"] / real["prebuilt"], 2),
            }
        )
    )


if __name__ == "__main__":
    main()

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
import json
import os
from datetime import timedelta

import harness

SCRATCH = harness.django_setup(ALLOWED_HOSTS="testserver,127.0.0.1", LOG_LEVEL="WARNING")

from django.conf import settings  # noqa: E402
from http_timing import in_process, rounds, served  # noqa: E402
from knox.models import AuthToken  # noqa: E402

from clinics.models import Clinic  # noqa: E402
from clinics.services.staff import staff_member_add  # noqa: E402
from tests.support.factories import ClinicFactory, patients_with_checks_spread  # noqa: E402


def populate(checks: int) -> tuple[Clinic, int]:
    """A clinic of patients on tofacitinib, 40 checks each, due over the next two years."""
    clinic = ClinicFactory(name="Bench clinic")
    spread = patients_with_checks_spread(
        clinic=clinic, count=checks // 40, checks_each=40, started=clinic.today(), days=730
    )
    return clinic, len(spread)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--checks", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=1000, help="of each, alternating")
    args = parser.parse_args()
    harness.database_ready()
    clinic, total = populate(args.checks)
    harness.analyze()
    user = staff_member_add(
        clinic=clinic,
        username="bench",
        email="bench@example.org",
        role="clinician",
        password="bench-password-long",
    )
    auth = {"Authorization": f"Token {AuthToken.objects.create(user=user)[1]}"}
    due_before = (clinic.today() + timedelta(days=365)).isoformat()
    api_path = f"/api/v1/checks/?due_before={due_before}"
    status, page = in_process("jakmonitor.urls")(api_path, auth)
    results = json.loads(page)["results"]
    assert status == 200 and len(results) == 100
    page_file = SCRATCH / "page.json"
    page_file.write_bytes(page)
    os.environ["BENCH_API_PAGE"] = str(page_file)
    paths = {"prebuilt": ("/bench/checks/", auth, 200), "api": (api_path, auth, 200)}

    with served("bench.api_server") as over_http:
        served_page = json.loads(over_http(api_path, auth)[1])
        assert served_page["results"] == results  # (links name the host asked)
        real = rounds(over_http, paths, 1, args.requests)
    local = rounds(in_process("bench.api_server"), paths, 1, args.requests // 3)
    print(f"a page of 100 checks among {total}; database {settings.DATABASES['default']['ENGINE']}")
    for label, figures in (("gunicorn", real), ("test client", local)):
        print(
            f"{label}: prebuilt {figures['prebuilt']:.2f} ms, API {figures['api']:.2f} ms "
            f"(x{figures['api'] / figures['prebuilt']:.2f})"
        )
    harness.report("api_checks", real["api"], "ms", real["prebuilt"])


if __name__ == "__main__":
    main()

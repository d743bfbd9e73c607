"""Benchmark: serving a patient's calendar feed of 100 events through a real server (gunicorn,
one worker, HTTP/1.1 keep-alive), against a minimal Django view behind the same server, URL
routing and middleware that returns the same bytes.

Three figures, each the median over interleaved rounds of the mean time per request: the feed
answered in full (200; rendered once per version, then served from the cache), the feed
revalidated by a client that has it (If-None-Match: 304), and the minimal view. The first,
uncached render and the same three figures through Django's in-process test client (no HTTP,
so framework overhead is all there is to compare with) are printed for information. Runs on a
throw-away SQLite database, or on BENCH_DATABASE_URL (an empty database of its own). Last line:
{"metric": "feed", "value": <ms>, "unit": "ms", "baseline": <ms>, "ratio": R, "ratio_304": R304}

    .venv/bin/python bench/feeds.py [--requests 300] [--rounds 15]
"""

import argparse
import http.client
import json
import os
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
_tmp = tempfile.TemporaryDirectory(prefix="jakmonitor-bench-")
os.environ.update(
    DJANGO_SETTINGS_MODULE="jakmonitor.settings",
    SECRET_KEY="bench-only",
    DATABASE_URL=os.environ.get("BENCH_DATABASE_URL", f"sqlite:///{_tmp.name}/bench.sqlite3"),
    JAKMONITOR_VAR_DIR=_tmp.name,
    JAKMONITOR_PLAN_HORIZON_MONTHS="96",  # a long course: enough checks for 100 events
    ALLOWED_HOSTS="testserver,127.0.0.1",
    LOG_LEVEL="WARNING",
)

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.test import Client  # noqa: E402
from django.urls import reverse  # noqa: E402

from bench.http_timing import free_port, rounds, serve  # noqa: E402
from clinics.feeds.tokens import feed_token  # noqa: E402
from clinics.models import Clinic, Drug, MonitoringCheck, Patient, Protocol  # noqa: E402
from clinics.services.calendar_feeds import calendar_feed_issue  # noqa: E402
from clinics.services.courses import course_start  # noqa: E402
from clinics.services.seeds import rules_load  # noqa: E402

EVENTS = 100


def setup() -> str:
    """A patient with a feed of exactly EVENTS events; returns the feed's path."""
    call_command("migrate", verbosity=0)
    if Patient.objects.exists():
        sys.exit("BENCH_DATABASE_URL must name an empty database of its own")
    rules_load()
    clinic = Clinic.objects.create(
        name="Bench Clinic",
        jurisdiction="US",
        time_zone="America/New_York",
        protocol=Protocol.objects.get(code="default"),
        contact_phone="+1 212 555 0100",
        contact_email="clinic@example.org",
        test_location="Main lab, ground floor",
    )
    patient = Patient.objects.create(
        clinic=clinic,
        mrn="B1",
        given_name="Bench",
        family_name="Patient",
        date_of_birth=date(1970, 1, 1),
        email="",
    )
    course = course_start(
        patient=patient,
        drug=Drug.objects.get(code="tofacitinib"),
        dose_code="5mg-bid",
        indication="ra",
        start_date=clinic.today(),
    ).course
    keep = course.checks.order_by("due_date", "kind").values_list("pk", flat=True)[:EVENTS]
    MonitoringCheck.objects.filter(course=course).exclude(pk__in=list(keep)).delete()
    return reverse("calendar-feed", args=[feed_token(calendar_feed_issue(patient=patient))])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()

    feed_path = setup()
    client = Client()
    start = time.perf_counter()
    first = client.get(feed_path)
    cold_ms = (time.perf_counter() - start) * 1000
    assert first.status_code == 200, first.status_code
    body, etag = first.content, first["ETag"]
    assert body.count(b"BEGIN:VEVENT") == EVENTS, body.count(b"BEGIN:VEVENT")
    body_file = Path(_tmp.name) / "feed.ics"
    body_file.write_bytes(body)
    os.environ["BENCH_FEED_BODY"] = str(body_file)
    paths = {
        "minimal": ("/bench/minimal.ics", {}, 200),
        "feed": (feed_path, {}, 200),
        "feed_304": (feed_path, {"If-None-Match": etag}, 304),
    }

    port = free_port()
    server = serve("bench.feeds_server:application", port)
    try:
        connection = http.client.HTTPConnection("127.0.0.1", port)

        def over_http(path, headers):
            connection.request("GET", path, headers=headers)
            response = connection.getresponse()
            return response.status, response.read()

        assert over_http("/bench/minimal.ics", {})[1] == over_http(feed_path, {})[1] == body
        real = rounds(over_http, paths, args.requests, args.rounds)
    finally:
        server.terminate()
        server.wait()

    from bench import feeds_server  # the same URLs, in this process, for the test client

    settings.ROOT_URLCONF = feeds_server.__name__

    def in_process(path, headers):
        response = client.get(path, headers=headers)
        return response.status_code, response.content

    local = rounds(in_process, paths, args.requests, max(3, args.rounds // 3))
    print(
        f"feed of {EVENTS} events, {len(body)} bytes; first (uncached) render {cold_ms:.1f} ms; "
        f"database {settings.DATABASES['default']['ENGINE']}"
    )
    for label, figures in (("gunicorn", real), ("test client", local)):
        print(
            f"{label}: minimal {figures['minimal']:.3f} ms, feed {figures['feed']:.3f} ms "
            f"(x{figures['feed'] / figures['minimal']:.2f}), 304 {figures['feed_304']:.3f} ms "
            f"(x{figures['feed_304'] / figures['minimal']:.2f})"
        )
    print(
        json.dumps(
            {
                "metric": "feed",
                "value": round(real["feed"], 3),
                "unit": "ms",
                "baseline": round(real["minimal"], 3),
                "ratio": round(real["feed"] / real["minimal"], 2),
                "ratio_304": round(real["feed_304"] / real["minimal"], 2),
            }
        )
    )


if __name__ == "__main__":
    main()

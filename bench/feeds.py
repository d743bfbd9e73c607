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
import os
import time
from datetime import date

import harness

SCRATCH = harness.django_setup(
    JAKMONITOR_PLAN_HORIZON_MONTHS="96",  # a long course: enough checks for 100 events
    ALLOWED_HOSTS="testserver,127.0.0.1",
    LOG_LEVEL="WARNING",
)

from django.conf import settings  # noqa: E402
from django.test import Client  # noqa: E402
from django.urls import reverse  # noqa: E402
from http_timing import in_process, rounds, served  # noqa: E402

from clinics.feeds.tokens import feed_token  # noqa: E402
from clinics.models import Clinic, Drug, MonitoringCheck, Patient, Protocol  # noqa: E402
from clinics.services.calendar_feeds import calendar_feed_issue  # noqa: E402
from clinics.services.courses import course_start  # noqa: E402

EVENTS = 100


def setup() -> str:
    """A patient with a feed of exactly EVENTS events; returns the feed's path."""
    harness.database_ready()
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
    body_file = SCRATCH / "feed.ics"
    body_file.write_bytes(body)
    os.environ["BENCH_FEED_BODY"] = str(body_file)
    paths = {
        "minimal": ("/bench/minimal.ics", {}, 200),
        "feed": (feed_path, {}, 200),
        "feed_304": (feed_path, {"If-None-Match": etag}, 304),
    }

    with served("bench.feeds_server") as over_http:
        assert over_http("/bench/minimal.ics", {})[1] == over_http(feed_path, {})[1] == body
        real = rounds(over_http, paths, args.requests, args.rounds)
    local = rounds(in_process("bench.feeds_server"), paths, args.requests, max(3, args.rounds // 3))
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
    harness.report(
        "feed",
        real["feed"],
        "ms",
        real["minimal"],
        digits=3,
        ratio_304=round(real["feed_304"] / real["minimal"], 2),
    )


if __name__ == "__main__":
    main()

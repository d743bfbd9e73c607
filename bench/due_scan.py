"""Benchmark: the periodic scan that finds due reminders, among 1,000,000 checks with 1,000 due,
against the same scan among 10,000 checks with 1,000 due (PostgreSQL).

Uses a database of its own (BENCH_DATABASE_URL, default
postgres://postgres@127.0.0.1:5432/jakmonitor_bench, recreated by the benchmark). The scan's cost
should follow what is due, not the size of the table. Last line:
{"metric": "due_scan", "value": <ms large>, "unit": "ms", "baseline": <ms small>, "ratio": R}

    .venv/bin/python bench/due_scan.py [--large 1000000] [--small 10000] [--due 1000]
"""

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
DATABASE_URL = os.environ.get(
    "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/jakmonitor_bench"
)
_tmp = tempfile.TemporaryDirectory(prefix="jakmonitor-bench-")
os.environ.update(
    DJANGO_SETTINGS_MODULE="jakmonitor.settings",
    SECRET_KEY="bench-only",
    DATABASE_URL=DATABASE_URL,
    JAKMONITOR_VAR_DIR=_tmp.name,
)

import django  # noqa: E402
import psycopg  # noqa: E402

_name = DATABASE_URL.rsplit("/", 1)[1]
with psycopg.connect(DATABASE_URL.rsplit("/", 1)[0] + "/postgres", autocommit=True) as _conn:
    _conn.execute(f'DROP DATABASE IF EXISTS "{_name}" WITH (FORCE)')
    _conn.execute(f'CREATE DATABASE "{_name}"')

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

from clinics.core.vocab import CourseStatus  # noqa: E402
from clinics.models import Clinic, Drug, MonitoringCheck, Patient, Protocol, TherapyCourse  # noqa: E402
from clinics.selectors.reminders import reminders_due  # noqa: E402
from clinics.services.seeds import rules_load  # noqa: E402

NOW = datetime(2026, 11, 2, 14, 0, tzinfo=UTC)  # 09:00 in New York
DUE = date(2026, 11, 9)  # 7 days later: the default first lead time
COURSES = 10_000


def setup() -> list[int]:
    call_command("migrate", verbosity=0)
    rules_load()
    clinic = Clinic.objects.create(
        name="Bench",
        jurisdiction="US",
        time_zone="America/New_York",
        protocol=Protocol.objects.get(code="default"),
    )
    drug = Drug.objects.get(code="tofacitinib")
    patients = Patient.objects.bulk_create(
        Patient(
            clinic=clinic,
            mrn=f"S{i:06d}",
            given_name="Bench",
            family_name=f"P{i}",
            date_of_birth=date(1970, 1, 1),
            email=f"p{i}@example.org",
            reminder_consent=True,
        )
        for i in range(COURSES)
    )
    courses = TherapyCourse.objects.bulk_create(
        TherapyCourse(
            patient=p,
            drug=drug,
            rules_version_id=drug.current_version_id,
            dose_code="5mg-bid",
            indication="ra",
            start_date=date(2025, 1, 6),
            status=CourseStatus.ACTIVE,
            status_changed_at=NOW,
        )
        for p in patients
    )
    return [c.pk for c in courses]


def fill(total: int, due: int, course_ids: list[int]) -> None:
    """`total` checks, `due` of them due on DUE, the rest spread over other days (SQL for speed)."""
    MonitoringCheck.objects.all().delete()
    version = Drug.objects.get(code="tofacitinib").current_version_id
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {MonitoringCheck._meta.db_table}
              (uuid, course_id, kind, plan_key, due_date, window_start, window_end, status, rule_ids,
               why, verified, analytes, instructions, rules_version_id, sequence, created_at, updated_at,
               completed_on)
            SELECT gen_random_uuid(), (%(courses)s::bigint[])[1 + i %% %(n)s], 'cbc', 'bench/' || i,
                   d, d, d + 14, CASE WHEN i %% 3 = 0 THEN 'done' ELSE 'scheduled' END, '[]', 'bench',
                   true, '[]', '', %(version)s, 0, now(), now(),
                   CASE WHEN i %% 3 = 0 THEN d END
            FROM (
              SELECT i, CASE WHEN i < %(due)s THEN %(target)s::date
                             ELSE %(target)s::date + (30 + i %% 700) * (CASE WHEN i %% 2 = 0 THEN 1 ELSE -1 END)
                        END AS d
              FROM generate_series(0, %(total)s - 1) AS i
            ) AS rows
            """,
            {
                "courses": course_ids,
                "n": len(course_ids),
                "due": due,
                "target": DUE,
                "total": total,
                "version": version,
            },
        )
        # Rows i < due are all due and scheduled: make sure none of them is "done".
        cursor.execute(
            f"UPDATE {MonitoringCheck._meta.db_table} SET status = 'scheduled' WHERE due_date = %s",
            [DUE],
        )
        cursor.execute("ANALYZE")  # as autovacuum would: fresh statistics for every table


def time_scan(expected: int, runs: int = 7) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        groups = reminders_due(now=NOW)
        times.append((time.perf_counter() - started) * 1000)
        assert sum(len(checks) for checks in groups.values()) == expected, (
            "the scan missed due checks"
        )
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--large", type=int, default=1_000_000)
    parser.add_argument("--small", type=int, default=10_000)
    parser.add_argument("--due", type=int, default=1_000)
    args = parser.parse_args()
    course_ids = setup()
    fill(args.small, args.due, course_ids)
    small = time_scan(args.due)
    fill(args.large, args.due, course_ids)
    large = time_scan(args.due)
    print(
        f"scan among {args.small} checks: {small:.1f} ms; among {args.large}: {large:.1f} ms ({args.due} due)"
    )
    print(
        json.dumps(
            {
                "metric": "due_scan",
                "value": round(large, 2),
                "unit": "ms",
                "baseline": round(small, 2),
                "ratio": round(large / small, 3),
            }
        )
    )


if __name__ == "__main__":
    main()

"""Benchmark: the periodic scan that finds due reminders, among 1,000,000 checks with 1,000 due,
against the same scan among 10,000 checks with 1,000 due (PostgreSQL).

Uses a database of its own (BENCH_DATABASE_URL, default
postgres://postgres@127.0.0.1:5432/jakmonitor_bench, recreated by the benchmark). The scan's cost
should follow what is due, not the size of the table. Last line:
{"metric": "due_scan", "value": <ms large>, "unit": "ms", "baseline": <ms small>, "ratio": R}

    .venv/bin/python bench/due_scan.py [--large 1000000] [--small 10000] [--due 1000]
"""

import argparse
from datetime import UTC, date, datetime

import harness

harness.django_setup(postgres=True)

from django.db import connection  # noqa: E402

from clinics.models import Drug, MonitoringCheck  # noqa: E402
from clinics.selectors.reminders import reminders_due  # noqa: E402
from tests.support.factories import ClinicFactory, patients_with_a_check_due  # noqa: E402

NOW = datetime(2026, 11, 2, 14, 0, tzinfo=UTC)  # 09:00 in New York
DUE = date(2026, 11, 9)  # 7 days later: the default first lead time
COURSES = 10_000


def setup() -> list[int]:
    """COURSES consenting patients, each with an active course (their checks come from fill)."""
    harness.database_ready()
    checks = patients_with_a_check_due(
        clinic=ClinicFactory(name="Bench"), count=COURSES, due=DUE, started=date(2025, 1, 6)
    )
    with connection.cursor() as cursor:  # fill writes the checks
        cursor.execute(f"DELETE FROM {MonitoringCheck._meta.db_table}")
    return [c.course_id for c in checks]


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
               completed_on, origin, results_missing, done_outside_window)
            SELECT gen_random_uuid(), (%(courses)s::bigint[])[1 + i %% %(n)s], 'cbc', 'bench/' || i,
                   d, d, d + 14, CASE WHEN i %% 3 = 0 THEN 'done' ELSE 'scheduled' END, '[]', 'bench',
                   true, '[]', '', %(version)s, 0, now(), now(),
                   CASE WHEN i %% 3 = 0 THEN d END, 'plan', '{{}}', false
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
    harness.analyze()


def time_scan(expected: int, runs: int = 7) -> float:
    def scan() -> None:
        groups = reminders_due(now=NOW)
        assert sum(len(checks) for checks in groups.values()) == expected, (
            "the scan missed due checks"
        )

    return harness.median_ms(scan, runs)


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
    harness.report("due_scan", large, "ms", small, ratio_digits=3)


if __name__ == "__main__":
    main()

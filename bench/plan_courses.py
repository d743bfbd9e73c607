"""Benchmark: plan and store 10,000 courses (24-month horizon) with bulk writes, against the
bare bulk insert of the same rows.

Runs on a throw-away SQLite database, or on BENCH_DATABASE_URL (an empty database of its own:
it refuses one that holds patients; DATABASE_URL is never used). Last line of output: one JSON
object with the planning throughput (courses/s), the baseline (bare bulk-insert rows/s) and the
ratio planning time / insert time.

    .venv/bin/python bench/plan_courses.py [--courses 10000]
"""

import argparse
import time
from datetime import date, timedelta

import harness

harness.django_setup()

from django.db import connection, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

from clinics.core.vocab import CourseStatus  # noqa: E402
from clinics.models import Clinic, Drug, MonitoringCheck, Patient, Protocol, TherapyCourse  # noqa: E402
from clinics.rulebook import drug_rules, with_rules  # noqa: E402
from clinics.services.replanning import courses_plan_new  # noqa: E402

AS_OF = date(2026, 11, 2)


def make_courses(n: int) -> list[TherapyCourse]:
    """n patients with one course each, spread over drugs, jurisdictions and start dates."""
    protocol = Protocol.objects.get(code="default")
    clinics = {
        j: Clinic.objects.create(
            name=f"Bench {j}", jurisdiction=j, time_zone="UTC", protocol=protocol
        )
        for j in ("US", "UK")
    }
    options = []
    for drug in Drug.objects.all():
        rules = drug_rules(drug=drug)
        for jurisdiction, clinic in clinics.items():
            if jurisdiction not in rules.drug.jurisdictions:
                continue
            for dose in rules.doses:
                indication = next(
                    (
                        i.code
                        for i in rules.drug.indications
                        if dose.applies(jurisdiction=jurisdiction, indication=i.code)
                    ),
                    None,
                )
                if indication:
                    options.append((clinic, drug, dose.code, indication))
                    break
    patients = Patient.objects.bulk_create(
        Patient(
            clinic=options[i % len(options)][0],
            mrn=f"B{i:06d}",
            given_name="Bench",
            family_name=f"P{i}",
            date_of_birth=date(1950, 1, 1) + timedelta(days=i % 15000),
            sex_at_birth=("female", "male")[i % 2],
        )
        for i in range(n)
    )
    now = timezone.now()
    TherapyCourse.objects.bulk_create(
        TherapyCourse(
            patient=p,
            drug=options[i % len(options)][1],
            rules_version_id=options[i % len(options)][1].current_version_id,
            dose_code=options[i % len(options)][2],
            indication=options[i % len(options)][3],
            start_date=AS_OF + timedelta(days=i % 120 - 30),
            status=CourseStatus.ACTIVE,
            status_changed_at=now,
        )
        for i, p in enumerate(patients)
    )
    return list(
        with_rules(
            TherapyCourse.objects.select_related("patient__clinic__protocol", "drug"),
            "drug",
            "patient__clinic__protocol",
        ).prefetch_related("pauses", "dose_changes")
    )


def _empty_checks() -> None:
    """Plain DELETE: the ORM's cascade collector would list every id (too many SQL variables)."""
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {MonitoringCheck._meta.db_table}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--courses", type=int, default=10_000)
    args = parser.parse_args()
    harness.database_ready()
    courses = make_courses(args.courses)

    started = time.perf_counter()
    rows = courses_plan_new(courses=courses, as_of=AS_OF)
    planning = time.perf_counter() - started

    stored = list(MonitoringCheck.objects.order_by("pk"))
    _empty_checks()
    for row in stored:
        row.pk = None
    started = time.perf_counter()
    with transaction.atomic():
        MonitoringCheck.objects.bulk_create(stored, batch_size=2000)
    insert = time.perf_counter() - started

    assert MonitoringCheck.objects.count() == rows == len(stored)
    print(
        f"{args.courses} courses, {rows} checks: planning+insert {planning:.2f}s, bare insert {insert:.2f}s"
    )
    harness.report(
        "plan_courses",
        args.courses / planning,
        "courses/s",
        rows / insert,
        ratio=planning / insert,
        digits=1,
        ratio_digits=3,
    )


if __name__ == "__main__":
    main()

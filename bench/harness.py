"""What every benchmark shares: Django set up on a database of the benchmark's own, the timing
of repeated runs, and the last line of output.

A benchmark runs as `.venv/bin/python bench/<name>.py`, so this module is imported as `harness`
(sys.path[0] is bench/); `django_setup` puts the repository root on the path as well:

    import harness

    SCRATCH = harness.django_setup(LOG_LEVEL="WARNING")

    from clinics.models import Clinic  # noqa: E402
"""

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
POSTGRES_URL = "postgres://postgres@127.0.0.1:5432/jakmonitor_bench"
EMPTY_DATABASE = "BENCH_DATABASE_URL must name an empty database of its own"

_scratch: tempfile.TemporaryDirectory[str] | None = None


def django_setup(*, postgres: bool = False, **env: str) -> Path:
    """Set the environment for the project's settings and call django.setup(); returns the run's
    scratch directory (JAKMONITOR_VAR_DIR, removed at exit).

    The database is BENCH_DATABASE_URL, never DATABASE_URL. Without it: a throw-away SQLite file
    in the scratch directory, or with `postgres`, POSTGRES_URL; with `postgres` the database is
    dropped and created empty first. `env`: further settings (ALLOWED_HOSTS="testserver", ...).
    """
    global _scratch
    sys.path.insert(0, str(ROOT))
    _scratch = tempfile.TemporaryDirectory(prefix="jakmonitor-bench-")
    default = POSTGRES_URL if postgres else f"sqlite:///{_scratch.name}/bench.sqlite3"
    database_url = os.environ.get("BENCH_DATABASE_URL", default)
    os.environ.update(
        DJANGO_SETTINGS_MODULE="jakmonitor.settings",
        SECRET_KEY="bench-only",
        DATABASE_URL=database_url,
        JAKMONITOR_VAR_DIR=_scratch.name,
        **env,
    )
    if postgres:
        _recreate(database_url)

    import django

    django.setup()
    return Path(_scratch.name)


def _recreate(database_url: str) -> None:
    import psycopg

    server, name = database_url.rsplit("/", 1)
    with psycopg.connect(f"{server}/postgres", autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')


def database_ready() -> None:
    """Migrate the benchmark's database and load the drug rules; exit if it holds patients."""
    from django.core.management import call_command

    from clinics.models import Patient
    from clinics.services.seeds import rules_load

    call_command("migrate", verbosity=0)
    if Patient.objects.exists():
        sys.exit(EMPTY_DATABASE)
    rules_load()


def analyze() -> None:
    """Statistics for the tables just filled, as autovacuum gathers within a minute of a bulk
    load: without them the planner reads a 10,000-row table as an empty one."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def mean_ms(run: Callable[[], object], times: int) -> float:
    """The mean wall time of `times` calls of `run` in a row, in ms."""
    start = time.perf_counter()
    for _ in range(times):
        run()
    return (time.perf_counter() - start) * 1000 / times


def median_ms(run: Callable[[], object], times: int) -> float:
    """The median wall time of `times` calls of `run`, in ms."""
    return statistics.median(mean_ms(run, 1) for _ in range(times))


def interleaved(measures: dict[str, Callable[[], float]], rounds: int) -> dict[str, float]:
    """The median of each measure over `rounds` rounds in which the measures take turns (in the
    dict's order), so that drift on the machine affects all of them alike."""
    samples: dict[str, list[float]] = {name: [] for name in measures}
    for _ in range(rounds):
        for name, measure in measures.items():
            samples[name].append(measure())
    return {name: statistics.median(values) for name, values in samples.items()}


def clinics_compared(
    *,
    metric: str,
    what: str,
    clinic_with: Callable[[str, int, str], Any],
    measure: Callable[[Any, int], float],
) -> None:
    """The page benchmarks' run: a small and a large clinic (`clinic_with(name, patients,
    prefix)`), `measure(clinic, requests)` of each taken in turns, printed and reported with the
    small clinic as the baseline."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--large", type=int, default=10_000)
    parser.add_argument("--small", type=int, default=100)
    parser.add_argument("--requests", type=int, default=30)
    args = parser.parse_args()
    database_ready()
    small = clinic_with("Small clinic", args.small, "small")
    large = clinic_with("Large clinic", args.large, "large")
    figures = interleaved(
        {
            "small": lambda: measure(small, args.requests),
            "large": lambda: measure(large, args.requests),
        },
        3,
    )
    base, big = figures["small"], figures["large"]
    print(f"{what}: {args.small} patients {base:.1f} ms, {args.large} patients {big:.1f} ms")
    report(metric, big, "ms", base)


def report(
    metric: str,
    value: float,
    unit: str,
    baseline: float | None = None,
    *,
    ratio: float | None = None,
    digits: int = 2,
    ratio_digits: int = 2,
    **extra: object,
) -> None:
    """Print the benchmark's last line, one JSON object: {"metric", "value", "unit", "baseline",
    "ratio", **extra}. `value` and `baseline` are rounded to `digits` places, `ratio` (value /
    baseline unless given) to `ratio_digits`; without a baseline there is no baseline nor ratio."""
    line: dict[str, object] = {"metric": metric, "value": round(value, digits), "unit": unit}
    if baseline is not None:
        line["baseline"] = round(baseline, digits)
        line["ratio"] = round(value / baseline if ratio is None else ratio, ratio_digits)
    print(json.dumps({**line, **extra}))


class CeleryWorker:
    """`celery worker` as the README runs it (2 processes, every queue, safety first; or
    `queues="safety"`, 1 process, safety messages only) in its own process group, mail going to
    `smtp_port`; a context manager that stops it."""

    def __init__(self, smtp_port: int, *, queues: str = "safety,celery") -> None:
        import subprocess

        concurrency = 1 if queues == "safety" else 2
        self.process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "jakmonitor", "worker", "-Q", queues]
            + [f"--concurrency={concurrency}", "--pool=prefork", "--without-mingle"]
            + ["--without-gossip", "--loglevel=ERROR", "-n", f"{queues}-{os.getpid()}@%h"],
            cwd=ROOT,
            env={**os.environ, "EMAIL_URL": f"smtp://127.0.0.1:{smtp_port}"},
            start_new_session=True,
        )
        time.sleep(3)  # let it connect before any clock starts

    def __enter__(self) -> "CeleryWorker":
        return self

    def __exit__(self, *exc: object) -> None:
        import signal

        os.killpg(self.process.pid, signal.SIGTERM)
        self.process.wait(60)

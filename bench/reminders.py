"""Benchmark: 10,000 due reminders through 2 worker processes on Redis into an SMTP sink.

Needs Redis and PostgreSQL (this machine's: 127.0.0.1). Uses a database of its own
(BENCH_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/jakmonitor_bench, created and
emptied by the benchmark) and Redis database 14 (BENCH_BROKER_URL). Measures from queueing the
due reminders to the last one accepted by the SMTP server. Last line:
{"metric": "reminders", "value": <messages/s>, "unit": "msg/s", "sent": N, "duplicates": D, "lost": L}

    .venv/bin/python bench/reminders.py [--reminders 10000]
"""

import argparse
import logging
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, date, datetime

import harness

harness.django_setup(
    postgres=True,
    CELERY_BROKER_URL=os.environ.get("BENCH_BROKER_URL", "redis://127.0.0.1:6379/14"),
)

from celery import current_app  # noqa: E402

from clinics.core.vocab import MessageStatus  # noqa: E402
from clinics.models import Message  # noqa: E402
from clinics.services.reminders import reminders_queue_due  # noqa: E402
from tests.support.factories import ClinicFactory, patients_with_a_check_due  # noqa: E402
from tests.support.smtp_sink import SmtpServer  # noqa: E402

NOW = datetime(2026, 11, 2, 14, 0, tzinfo=UTC)  # 09:00 in New York
DUE = date(2026, 11, 9)  # 7 days later: the default first lead time


def setup(n: int) -> None:
    """n consenting patients, each with one active course and one check due in 7 days."""
    harness.database_ready()
    clinic = ClinicFactory(name="Bench")
    patients_with_a_check_due(clinic=clinic, count=n, due=DUE, started=date(2026, 10, 12))


def main() -> None:
    logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd logs every command
    parser = argparse.ArgumentParser()
    parser.add_argument("--reminders", type=int, default=10_000)
    args = parser.parse_args()
    setup(args.reminders)
    current_app.control.purge()
    smtp = SmtpServer().start()
    env = {**os.environ, "EMAIL_URL": f"smtp://127.0.0.1:{smtp.port}"}
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "jakmonitor",
            "worker",
            "--concurrency=2",
            "--pool=prefork",
            "--without-mingle",
            "--without-gossip",
            "--loglevel=ERROR",
            "-n",
            "bench@%h",
        ],
        cwd=harness.ROOT,
        env=env,
        start_new_session=True,
    )
    try:
        time.sleep(3)  # let the worker connect before the clock starts
        started = time.perf_counter()
        queued = reminders_queue_due(now=NOW)  # the scan "at" 09:00 New York on the reminder day
        current_app.send_task("clinics.tasks.dispatch_messages")  # as beat does, every minute
        deadline = time.monotonic() + 1800
        while len(smtp.messages) < queued and time.monotonic() < deadline:
            time.sleep(0.2)
        elapsed = time.perf_counter() - started
        time.sleep(1)
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        worker.wait(60)
        smtp.stop()
    counts = Counter(m["Message-ID"] for m in smtp.messages)
    stored = set(Message.objects.values_list("message_id", flat=True))
    print(f"{queued} reminders queued, {len(smtp.messages)} received in {elapsed:.1f}s")
    harness.report(
        "reminders",
        len(counts) / elapsed,
        "msg/s",
        digits=1,
        sent=Message.objects.filter(status=MessageStatus.SENT).count(),
        duplicates=sum(c - 1 for c in counts.values()),
        lost=len(stored - set(counts)),
    )


if __name__ == "__main__":
    main()

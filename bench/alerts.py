"""Benchmark: how long a pause alert takes from the infection report to the SMTP server, with
10,000 reminders being sent at the same time, against the same alerts with no backlog.

Needs Redis and PostgreSQL (as bench/reminders.py: its own database, Redis database 14). The
workers as the README runs them: two processes on every queue (safety first) and one on the
safety queue alone. The baseline run reports 20 infections with
nothing else to send; the measured run queues 10,000 due reminders, waits until they are going
out, then reports 20 infections, one every 0.25 s. Each report's latency is from its commit to
the arrival of its staff alert. Last line:
{"metric": "pause_alert_latency", "value": <p100 s>, "unit": "s", "baseline": <p100 s, no
 backlog>, "ratio": R, "reminders_sent_meanwhile": N}

    .venv/bin/python bench/alerts.py [--reminders 10000] [--reports 20]
"""

import argparse
import logging
import os
import time
from datetime import UTC, date, datetime, timedelta

import harness

harness.django_setup(
    postgres=True,
    CELERY_BROKER_URL=os.environ.get("BENCH_BROKER_URL", "redis://127.0.0.1:6379/14"),
)

import time_machine  # noqa: E402
from celery import current_app  # noqa: E402

from clinics.core.vocab import InfectionKind, MessageKind  # noqa: E402
from clinics.models import Message, TherapyCourse  # noqa: E402
from clinics.services.infections import infection_report  # noqa: E402
from clinics.services.outbox import messages_dispatch  # noqa: E402
from clinics.services.reminders import reminders_queue_due  # noqa: E402
from clinics.services.staff import staff_member_add  # noqa: E402
from tests.support.factories import ClinicFactory, patients_with_a_check_due  # noqa: E402
from tests.support.smtp_sink import SmtpServer  # noqa: E402

NOW = datetime(2026, 11, 2, 14, 0, tzinfo=UTC)  # 09:00 in New York, reminders due
DUE = date(2026, 11, 9)


def report_infections(courses: list[TherapyCourse], smtp: SmtpServer) -> list[float]:
    """Report an infection on each course, 0.25 s apart; each staff alert's seconds from the
    report's commit to its arrival at the SMTP server."""
    reported: dict[int, float] = {}
    for course in courses:
        result = infection_report(
            course=course,
            kind=InfectionKind.RESPIRATORY,
            onset_on=DUE - timedelta(days=7),
            serious=True,
            reporter="staff",
        )
        reported[result.report.course_id] = time.monotonic()
        time.sleep(0.25)
    wanted = dict(
        Message.objects.filter(kind=MessageKind.PAUSE_ALERT_STAFF, course__in=courses).values_list(
            "message_id", "course_id"
        )
    )
    deadline = time.monotonic() + 900
    arrived: dict[str, float] = {}
    while len(arrived) < len(wanted) and time.monotonic() < deadline:
        for mail, at in zip(list(smtp.messages), list(smtp.sink.arrivals), strict=False):
            if mail["Message-ID"] in wanted:
                arrived.setdefault(mail["Message-ID"], at)
        time.sleep(0.05)
    if len(arrived) < len(wanted):
        raise SystemExit(f"only {len(arrived)} of {len(wanted)} alerts arrived")
    return [arrived[mid] - reported[course_id] for mid, course_id in wanted.items()]


def main() -> None:
    logging.getLogger("mail.log").setLevel(logging.WARNING)
    parser = argparse.ArgumentParser()
    parser.add_argument("--reminders", type=int, default=10_000)
    parser.add_argument("--reports", type=int, default=20)
    args = parser.parse_args()
    # The clinic's clock at 09:00 New York on the reminder day, for everything in this process.
    time_machine.travel(NOW, tick=True).start()
    harness.database_ready()
    clinic = ClinicFactory(name="Bench")
    staff_member_add(
        clinic=clinic,
        username="nurse",
        email="nurse@example.org",
        role="clinician",
        password="a-long-bench-password",
    )
    patients_with_a_check_due(
        clinic=clinic, count=args.reminders + 2 * args.reports, due=DUE, started=date(2026, 10, 12)
    )
    courses = list(TherapyCourse.objects.order_by("id"))
    quiet, busy = courses[: args.reports], courses[args.reports : 2 * args.reports]
    current_app.control.purge()
    smtp = SmtpServer().start()
    # The README's workers: one on every queue (safety first), one on safety messages alone.
    with harness.CeleryWorker(smtp.port), harness.CeleryWorker(smtp.port, queues="safety"):
        baseline = max(report_infections(quiet, smtp))
        queued = reminders_queue_due()
        messages_dispatch()  # the beat's tick: senders start on the backlog
        while len(smtp.messages) < 2 * args.reports + 200:  # reminders are going out
            time.sleep(0.05)
        latencies = report_infections(busy, smtp)
        meanwhile = Message.objects.filter(kind=MessageKind.REMINDER, status="sent").count()
    smtp.stop()
    value = max(latencies)
    print(
        f"{args.reports} pause alerts: p100 {baseline:.2f} s with nothing else to send, "
        f"{value:.2f} s behind {queued} queued reminders ({meanwhile} sent by then)"
    )
    harness.report("pause_alert_latency", value, "s", baseline, reminders_sent_meanwhile=meanwhile)


if __name__ == "__main__":
    main()

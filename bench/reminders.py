"""Benchmark: 10,000 due reminders through 2 worker processes on Redis into an SMTP sink, against
the same rendered messages sent with bare smtplib over one connection to the same sink.

Needs Redis and PostgreSQL (this machine's: 127.0.0.1). Uses a database of its own
(BENCH_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/jakmonitor_bench, created and
emptied by the benchmark) and Redis database 14 (BENCH_BROKER_URL). The reminders are queued
first (timed and printed apart); the service is timed from the dispatch tick to the last one
accepted by the SMTP server, the bare run from its first to its last message, sent as the
service renders them over one SMTP connection with nothing else, once before the service and
once after (the baseline is their mean: this machine's speed drifts over a run). Last line:
{"metric": "reminders", "value": <messages/s>, "unit": "msg/s", "baseline": <bare messages/s>,
 "ratio": <service time / bare time>, "sent": N, "duplicates": D, "lost": L}

    .venv/bin/python bench/reminders.py [--reminders 10000]
"""

import argparse
import logging
import os
import smtplib
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
from clinics.models import LinkToken, Message  # noqa: E402
from clinics.services.emails import render_message  # noqa: E402
from clinics.services.outbox import messages_dispatch  # noqa: E402
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


def wait_for(smtp: SmtpServer, count: int) -> None:
    deadline = time.monotonic() + 1800
    while len(smtp.messages) < count and time.monotonic() < deadline:
        time.sleep(0.05)


def service(smtp: SmtpServer, queued: int) -> float:
    """Let the worker send the queued reminders; seconds from the dispatch tick to the last one
    accepted."""
    with harness.CeleryWorker(smtp.port):
        started = time.perf_counter()
        messages_dispatch()  # the beat's tick
        wait_for(smtp, queued)
        elapsed = time.perf_counter() - started
        time.sleep(1)  # anything sent twice arrives now
    return elapsed


Rendered = list[tuple[str, list[str], bytes]]


def rendered() -> Rendered:
    """The queued messages, rendered as the service renders them, as smtplib sends them."""
    out, links = [], []
    messages = Message.objects.select_related("clinic", "patient", "course")
    for message in messages.prefetch_related("checks").iterator(chunk_size=1000):
        email, _ = render_message(message, links=links)
        assert email is not None
        out.append((email.from_email, email.recipients(), email.message().as_bytes(linesep="\r\n")))
    LinkToken.objects.bulk_create(links)
    return out


def bare(smtp: SmtpServer, messages: Rendered) -> float:
    """Seconds to send `messages` with smtplib alone over one connection."""
    smtp.sink.messages.clear()
    started = time.perf_counter()
    with smtplib.SMTP("127.0.0.1", smtp.port) as connection:
        for sender, recipients, data in messages:
            connection.sendmail(sender, recipients, data)
    wait_for(smtp, len(messages))
    elapsed = time.perf_counter() - started
    smtp.sink.messages.clear()
    return elapsed


def main() -> None:
    logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd logs every command
    parser = argparse.ArgumentParser()
    parser.add_argument("--reminders", type=int, default=10_000)
    args = parser.parse_args()
    setup(args.reminders)
    current_app.control.purge()
    started = time.perf_counter()
    queued = reminders_queue_due(now=NOW)  # the scan "at" 09:00 New York on the reminder day
    print(f"queued {queued} reminders in {time.perf_counter() - started:.1f} s")
    harness.analyze()
    messages = rendered()
    smtp = SmtpServer().start()
    try:
        # The bare run before and after the service: the machine's speed drifts over a run,
        # and their mean is what the service is compared with.
        bare_before = bare(smtp, messages)
        elapsed = service(smtp, queued)
        counts = Counter(m["Message-ID"] for m in smtp.messages)
        bare_after = bare(smtp, messages)
    finally:
        smtp.stop()
    stored = set(Message.objects.values_list("message_id", flat=True))
    sent = Message.objects.filter(status=MessageStatus.SENT).count()
    elapsed_bare = (bare_before + bare_after) / 2
    print(
        f"{queued} reminders: service {elapsed:.1f} s ({len(counts)} received), bare smtplib "
        f"{bare_before:.1f} s before and {bare_after:.1f} s after ({len(messages)} sent)"
    )
    harness.report(
        "reminders",
        len(counts) / elapsed,
        "msg/s",
        len(messages) / elapsed_bare,
        ratio=elapsed / elapsed_bare,
        digits=1,
        sent=sent,
        duplicates=sum(c - 1 for c in counts.values()),
        lost=len(stored - set(counts)),
    )


if __name__ == "__main__":
    main()

"""A real Celery worker process on the configured broker (Redis in CI, the filesystem broker on
the embedded defaults), the test database and a real SMTP server (aiosmtpd).

These tests commit their data (transactional database) so that the worker can read it.
"""

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from celery import current_app
from django.conf import settings
from django.db import connection
from django.utils import timezone

from clinics.core.vocab import MessageStatus
from clinics.models import Drug, Message
from clinics.services.courses import course_start
from clinics.services.infections import infection_report
from clinics.services.outbox import messages_dispatch
from clinics.services.reminders import reminders_queue_due
from clinics.services.seeds import rules_load
from clinics.services.staff import staff_member_add
from tests.support.factories import (
    ClinicFactory,
    PatientFactory,
    infection_facts,
    patients_with_a_check_due,
)
from tests.support.seed_edits import SEEDS
from tests.support.smtp_sink import SmtpServer

ROOT = Path(__file__).resolve().parents[2]
WAIT = 60  # seconds: an upper bound for a real process, never a pause in the logic under test

pytestmark = pytest.mark.django_db(transaction=True)


def _database_url() -> str:
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    user = db["USER"] or "postgres"
    return f"postgres://{user}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


class Worker:
    """`celery worker` in its own process group, so a SIGKILL takes all its processes."""

    def __init__(self, queue: str, smtp_port: int, concurrency: int = 2):
        self.env = {
            **os.environ,
            "DATABASE_URL": _database_url(),
            "EMAIL_URL": f"smtp://127.0.0.1:{smtp_port}",
            "SECRET_KEY": "worker-test",
        }
        self.args = [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "jakmonitor",
            "worker",
            "-Q",
            queue,
            f"--concurrency={concurrency}",
            "--pool=prefork",
            "--without-mingle",
            "--without-gossip",
            "--loglevel=WARNING",
            "-n",
            f"test-{os.getpid()}@%h",
        ]
        self.process: subprocess.Popen | None = None

    def start(self) -> "Worker":
        self.process = subprocess.Popen(self.args, cwd=ROOT, env=self.env, start_new_session=True)
        return self

    def kill(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.kill()


def wait_until(condition, what: str):
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    statuses = Counter(Message.objects.values_list("status", flat=True))
    raise AssertionError(f"timed out waiting for {what} (messages by status: {dict(statuses)})")


@pytest.fixture
def queue():
    """An empty queue: tasks left on the broker by other tests refer to rows long gone."""
    current_app.control.purge()
    return current_app.conf.task_default_queue


@pytest.fixture
def smtp_server():
    server = SmtpServer().start()
    yield server
    server.stop()


@pytest.fixture
def clinic_with_staff():
    rules_load(seed_dir=SEEDS)
    clinic = ClinicFactory()
    staff_member_add(
        clinic=clinic,
        username="nurse",
        email="nurse@example.org",
        role="clinician",
        password="a-long-test-password",
    )
    return clinic


def test_infection_report_reaches_staff_and_patient_through_the_worker(
    queue, smtp_server, clinic_with_staff
):
    worker = Worker(queue, smtp_server.port).start()
    try:
        patient = PatientFactory(clinic=clinic_with_staff)
        course = course_start(
            patient=patient,
            drug=Drug.objects.get(code="baricitinib"),
            dose_code="2mg-qd-us",
            indication="ra",
            start_date=clinic_with_staff.today(),
        ).course
        infection_report(
            course=course,
            **infection_facts(course),
            serious=True,
            reporter="staff",
            description="pneumonia",
        )
        wait_until(lambda: len(smtp_server.messages) >= 2, "two pause alerts")
        assert {m["To"] for m in smtp_server.messages} == {"nurse@example.org", patient.email}
        # The worker marks a row sent just after the SMTP server accepted it.
        wait_until(
            lambda: set(Message.objects.values_list("status", flat=True)) == {MessageStatus.SENT},
            "both messages marked sent",
        )
    finally:
        worker.stop()


def test_sigkill_mid_batch_loses_no_reminder_and_duplicates_only_what_smtp_had_accepted(
    queue, smtp_server, clinic_with_staff
):
    total = 150
    patients_with_a_check_due(
        clinic=clinic_with_staff, count=total, due=date(2026, 11, 9), started=date(2026, 10, 12)
    )
    # 09:00 in New York, 7 days before the checks are due: every patient's reminder is due.
    assert reminders_queue_due(now=datetime(2026, 11, 2, 14, tzinfo=UTC)) == total
    accepted_before_kill = 30
    smtp_server.sink.hold_after = accepted_before_kill  # the next sends wait, unaccepted
    worker = Worker(queue, smtp_server.port).start()
    try:
        messages_dispatch()
        wait_until(lambda: smtp_server.sink.held >= 1, "a send held after the 30th message")
        worker.kill()  # mid-batch: 30 accepted, the rest waiting or not yet begun
        assert len(smtp_server.messages) == accepted_before_kill
        smtp_server.sink.release()
        worker = Worker(queue, smtp_server.port).start()
        lease = timedelta(seconds=settings.JAKMONITOR["SEND_LEASE_SECONDS"] + 1)

        def all_sent():
            # The beat's job, run here: rows whose worker died are claimed again once their
            # lease has run out (time moved past it, not waited for).
            messages_dispatch(now=timezone.now() + lease)
            return not Message.objects.exclude(status=MessageStatus.SENT).exists()

        wait_until(all_sent, "every message to be sent")
        wait_until(lambda: len(smtp_server.messages) >= total, "the SMTP server to receive them")
    finally:
        worker.stop()
    counts = Counter(m["Message-ID"] for m in smtp_server.messages)
    stored = set(Message.objects.values_list("message_id", flat=True))
    duplicates = sum(c - 1 for c in counts.values())
    print(
        f"\nSIGKILL test: {total} reminders, {accepted_before_kill} received before the kill, "
        f"{duplicates} recognisable duplicate(s)"
    )
    assert set(counts) == stored, "every message arrived (none lost), with its stored Message-ID"
    assert duplicates <= 2, "only sends in flight at the kill (one per worker process) may repeat"

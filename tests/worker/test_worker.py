"""A real Celery worker process on the configured broker (Redis in CI, the filesystem broker on
the embedded defaults), the test database and a real SMTP server (aiosmtpd).

These tests commit their data (transactional database) so that the worker can read it.
"""

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from celery import current_app
from django.conf import settings
from django.contrib.auth.models import User
from django.db import connection
from knox.models import AuthToken

from clinics.core.vocab import MessageStatus, TaskQueue
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

    def __init__(self, queue: str, smtp_port: int, concurrency: int = 2, **env: str):
        self.env = {
            **os.environ,
            "DATABASE_URL": _database_url(),
            "EMAIL_URL": f"smtp://127.0.0.1:{smtp_port}",
            "SECRET_KEY": "worker-test",
            # Leases and timeouts of seconds, not a minute: a killed sender's messages are
            # taken over while the test waits (the system check keeps lease > 5 timeouts).
            "JAKMONITOR_SEND_LEASE_SECONDS": "3",
            "EMAIL_TIMEOUT": "0.5",
            **env,
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
        """A warm shutdown: the main process lets its pool finish the tasks in hand."""
        if self.process and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGTERM)
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
    """Empty queues (tasks left on the broker by other tests refer to rows long gone); the
    worker consumes them all, safety first."""
    current_app.control.purge()
    return ",".join(TaskQueue.values())


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


def _course(clinic):
    """A patient on baricitinib since today."""
    return course_start(
        patient=PatientFactory(clinic=clinic),
        drug=Drug.objects.get(code="baricitinib"),
        dose_code="2mg-qd-us",
        indication="ra",
        start_date=clinic.today(),
    ).course


def test_infection_report_reaches_staff_and_patient_through_the_worker(
    queue, smtp_server, clinic_with_staff
):
    worker = Worker(queue, smtp_server.port).start()
    try:
        course = _course(clinic_with_staff)
        patient = course.patient
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


def _ticking(condition):
    """The beat's dispatch tick, played by the test while it waits (beat runs it every 15 s)."""

    def check():
        messages_dispatch()
        return condition()

    return check


def _all_sent():
    return not Message.objects.exclude(status=MessageStatus.SENT).exists()


def _delivery(smtp_server) -> tuple[int, set[str]]:
    counts = Counter(m["Message-ID"] for m in smtp_server.messages)
    stored = set(Message.objects.values_list("message_id", flat=True))
    return sum(c - 1 for c in counts.values()), stored - set(counts)


@pytest.mark.parametrize(
    "point,duplicates_allowed",
    [
        ("RCPT", 0),  # before DATA
        ("DATA", 0),  # inside DATA: received, the server's reply not yet given
        ("MAIL", 1),  # after the server's reply to the message before
        ("QUIT", 0),  # saying goodbye on an idle connection, every message marked sent
    ],
)
def test_sigkill_at_each_point_of_a_send_loses_nothing_and_duplicates_nothing_unaccepted(
    queue, smtp_server, clinic_with_staff, point, duplicates_allowed
):
    total, kept_before_kill = 24, 10
    patients_with_a_check_due(
        clinic=clinic_with_staff, count=total, due=date(2026, 11, 9), started=date(2026, 10, 12)
    )
    # 09:00 in New York, 7 days before the checks are due: every patient's reminder is due.
    assert reminders_queue_due(now=datetime(2026, 11, 2, 14, tzinfo=UTC)) == total
    smtp_server.sink.pause(point, after=kept_before_kill)
    # One sender process, so the kill lands at the paused point; at QUIT, a connection counts as
    # idle after every message, so each send begins by saying goodbye to the last connection.
    idle = {"JAKMONITOR_SMTP_IDLE_SECONDS": "0"} if point == "QUIT" else {}
    worker = Worker(queue, smtp_server.port, concurrency=1, **idle).start()
    try:
        messages_dispatch()
        assert smtp_server.sink.paused.wait(WAIT), f"the send never reached {point}"
        worker.kill()
        assert len(smtp_server.messages) == kept_before_kill
        smtp_server.sink.release()
        worker = Worker(queue, smtp_server.port, concurrency=1, **idle).start()
        wait_until(_ticking(_all_sent), "every message to be sent after the lease ran out")
        wait_until(lambda: len(smtp_server.messages) >= total, "the SMTP server to receive them")
    finally:
        worker.stop()
    duplicates, lost = _delivery(smtp_server)
    print(f"\nSIGKILL at {point}: {total} reminders, {duplicates} duplicate(s)")
    assert not lost, "every message arrived with its stored Message-ID"
    assert duplicates <= duplicates_allowed


def test_a_broker_restarted_without_its_data_delays_delivery_by_less_than_a_minute(
    queue, smtp_server, clinic_with_staff
):
    """The tasks on the broker are gone (a Redis restart without its data, or the filesystem
    broker's folder emptied); the messages are rows, and the next dispatch tick wakes senders."""
    total = 40
    patients_with_a_check_due(
        clinic=clinic_with_staff, count=total, due=date(2026, 11, 9), started=date(2026, 10, 12)
    )
    assert reminders_queue_due(now=datetime(2026, 11, 2, 14, tzinfo=UTC)) == total
    messages_dispatch()  # wake-ups on the broker, and no worker yet to take them
    _broker_loses_its_data()
    worker = Worker(queue, smtp_server.port).start()
    try:
        lost_at = time.monotonic()
        wait_until(_ticking(lambda: len(smtp_server.messages) >= total), "delivery to resume")
        assert time.monotonic() - lost_at < 60
        wait_until(_all_sent, "every message marked sent")
    finally:
        worker.stop()
    assert _delivery(smtp_server) == (0, set())


def _broker_loses_its_data() -> None:
    url = current_app.conf.broker_url
    if url.startswith("redis://"):
        import redis

        client = redis.Redis.from_url(url)
        client.flushdb()
        client.client_kill_filter(_type="normal", skipme=True)  # as a restart drops clients
    else:
        folder = Path(settings.CELERY_BROKER_TRANSPORT_OPTIONS["data_folder_in"])
        for task in folder.glob("*.msg"):
            task.unlink()


def test_an_infection_reported_while_the_broker_is_down_is_alerted_when_it_is_back(
    queue, smtp_server, clinic_with_staff
):
    course = _course(clinic_with_staff)
    patient = course.patient
    _, token = AuthToken.objects.create(user=User.objects.get(username="nurse"))
    # The report comes in through a web process of its own whose broker is down (nothing
    # listens on port 9): the write must succeed and the wake-up be left to the dispatch tick.
    web = (
        "import django, json, sys; django.setup()\n"
        "from django.test import Client\n"
        "r = Client().post(sys.argv[1], json.loads(sys.argv[2]), content_type='application/json',"
        " headers={'Authorization': 'Token ' + sys.argv[3]})\n"
        "print(r.status_code)"
    )
    facts = {"kind": "respiratory", "onset_on": str(clinic_with_staff.today()), "serious": True}
    answer = subprocess.run(
        [sys.executable, "-c", web, f"/api/v1/courses/{course.uuid}/report-infection/"]
        + [json.dumps(facts), token],
        cwd=ROOT,
        env={
            **Worker(queue, smtp_server.port).env,
            "DJANGO_SETTINGS_MODULE": "jakmonitor.settings",
            "CELERY_BROKER_URL": "redis://127.0.0.1:9/0",
            "ALLOWED_HOSTS": "testserver",
        },
        capture_output=True,
        text=True,
        timeout=WAIT,
    )
    assert answer.stdout.strip() == "201", answer.stderr[-2000:]
    course.refresh_from_db()
    assert course.status == "paused"
    assert not smtp_server.messages
    worker = Worker(queue, smtp_server.port).start()
    try:
        wait_until(_ticking(lambda: len(smtp_server.messages) >= 2), "the two pause alerts")
    finally:
        worker.stop()
    assert {m["To"] for m in smtp_server.messages} == {"nurse@example.org", patient.email}

"""Reminders, alerts and the outbox, through the services and a real SMTP server (aiosmtpd).

Time is moved with time-machine; the clinic is in New York, where summer time starts on
8 March 2026 (the reminder hour stays 08:00 local on both sides of the change).
"""

import smtplib
from datetime import UTC, date, datetime

import pytest
from anymail.exceptions import AnymailAPIError, AnymailRecipientsRefused
from django.core.exceptions import ValidationError
from django.core.management import call_command

from clinics.core.vocab import (
    CheckStatus,
    CourseStatus,
    LifecycleConflict,
    LinkPurpose,
    MessageKind,
    MessageStatus,
    TaskName,
)
from clinics.models import LinkToken, Message, MonitoringCheck
from clinics.selectors.messages import failure_reason
from clinics.services.checks import check_complete, checks_mark_overdue
from clinics.services.courses import course_pause, course_resume, course_stop
from clinics.services.digests import overdue_digests_queue
from clinics.services.infections import infection_report, infection_resolve
from clinics.services.outbox import message_requeue, messages_dispatch
from clinics.services.reminders import reminder_resend, reminders_queue_due
from clinics.services.results import lab_result_record
from clinics.services.sending import _claim, _is_transient, message_send, messages_send_due
from tests.support.clock import at
from tests.support.factories import infection_facts, tofacitinib_course, without_values
from tests.support.outbox import send_all

Kind, Status = MessageKind, MessageStatus


BASELINE_KINDS = (
    "cbc",
    "hepatitis",
    "lipids",
    "liver",
    "pregnancy",
    "renal",
    "tb",
    "zoster_vaccination",
)


@pytest.fixture
def course(clinician, course):
    """The shared course, with a clinician in its clinic to receive staff mail."""
    return course


def _copies(message, count: int, key: str) -> None:
    """`count` more messages like `message` (same kind, patient and checks), each its own."""
    for n in range(count):
        Message.objects.create(
            **{f: getattr(message, f) for f in ("clinic", "patient", "course", "recipient")},
            **{f: getattr(message, f) for f in ("kind", "subject", "context", "send_after")},
            dedupe_key=f"{key}-{n}",
            message_id=f"<{key}-{n}@localhost>",
        ).checks.set(message.checks.all())


def test_reminder_at_the_local_hour_across_the_dst_change(course):
    # cbc/start+4w is due 30 March; 7 days before is 23 March (EDT, UTC-4): 08:00 local = 12:00 UTC.
    four_weeks = course.checks.get(plan_key="cbc/start+4w")
    assert four_weeks.due_date == date(2026, 3, 30)
    with at(2026, 3, 23, 11, 59):
        assert reminders_queue_due() == 0
    with at(2026, 3, 23, 12, 0):
        assert reminders_queue_due() == 1
        assert reminders_queue_due() == 0  # never twice
    message = Message.objects.get(kind=Kind.REMINDER)
    assert set(message.checks.values_list("kind", flat=True)) == {"cbc", "lipids", "liver", "renal"}
    assert (
        message.dedupe_key.endswith("/2026-03-30/7d")
        and "tofacitinib" not in message.subject.lower()
    )


def test_reminder_before_the_change_uses_standard_time(patient, course):
    # A check due 9 March with a 1-day lead: 8 March 08:00 EDT (the first day of summer time) is
    # 12:00 UTC; on 7 March (EST) the same local hour was 13:00 UTC.
    check = course.checks.get(plan_key="tb/baseline")
    MonitoringCheck.objects.filter(pk=check.pk).update(
        due_date=date(2026, 3, 9), window_end=date(2026, 3, 9)
    )
    with at(2026, 3, 8, 11, 59):
        assert reminders_queue_due() == 0
    with at(2026, 3, 8, 12, 0):
        assert reminders_queue_due() == 1


def test_no_reminder_without_consent_or_address(patient, course):
    patient.reminder_consent = False
    patient.save()
    with at(2026, 3, 23, 13):
        assert reminders_queue_due() == 0


def test_reminder_is_sent_multipart_with_one_click_unsubscribe(course, smtp):
    with at(2026, 3, 23, 13):
        reminders_queue_due()
    assert send_all(datetime(2026, 3, 23, 13, 1, tzinfo=UTC)) == [Status.SENT]
    (mail,) = smtp.messages
    message = Message.objects.get()
    assert mail["Message-ID"] == message.message_id
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert (
        mail["List-Unsubscribe"].strip().startswith("<http")
        and "/links/" in mail["List-Unsubscribe"]
    )
    assert mail.get_content_type() == "multipart/alternative"
    text, html = (part.get_payload(decode=True).decode() for part in mail.get_payload())
    assert "Full blood count" in text and "contact your clinic" in text and "<ul>" in html
    assert LinkToken.objects.filter(purpose="unsubscribe").count() == 1
    assert not LinkToken.objects.filter(
        digest__in=[t for t in text.split() if len(t) > 40]
    ).exists()


def test_reminder_for_a_done_check_is_cancelled_not_sent(course, smtp):
    with at(2026, 3, 23, 13):
        reminders_queue_due()
    for check in course.checks.filter(due_date=date(2026, 3, 30)):
        check_complete(check=check, completed_on=date(2026, 3, 23), **without_values(check))
    assert send_all(datetime(2026, 3, 23, 13, 1, tzinfo=UTC)) == [Status.CANCELLED]
    assert smtp.messages == []


def test_infection_pauses_alerts_staff_and_patient_and_stops_reminders(
    course, smtp, django_capture_on_commit_callbacks
):
    with at(2026, 3, 23, 13):
        reminders_queue_due()
    with at(2026, 3, 24, 9), django_capture_on_commit_callbacks() as callbacks:
        infection_report(
            course=course,
            **infection_facts(course),
            serious=True,
            reporter="patient",
            description="fever",
        )
    assert callbacks, "alerts are dispatched as soon as the report commits"
    assert Message.objects.get(kind=Kind.REMINDER).status == Status.CANCELLED
    sent = send_all(datetime(2026, 3, 24, 9, 0, 5, tzinfo=UTC))
    assert sorted(sent) == [Status.SENT, Status.SENT]
    by_to = {m["To"]: m for m in smtp.messages}
    patient_mail = by_to[course.patient.email].get_payload()[0].get_payload(decode=True).decode()
    assert (
        "before your next dose" in patient_mail
        and "List-Unsubscribe" not in by_to[course.patient.email]
    )
    staff_mail = by_to["nurse@example.org"].get_payload()[0].get_payload(decode=True).decode()
    assert course.patient.mrn in staff_mail and course.patient.family_name not in staff_mail
    assert "interrupt" in staff_mail.lower() and "Xeljanz" in staff_mail
    assert "Kind: Chest, throat or sinus (respiratory)" in staff_mail
    with at(2026, 3, 30, 13):
        assert reminders_queue_due() == 0  # paused: no routine reminders


def test_resume_sends_new_dates(course, smtp):
    with at(2026, 3, 24, 9):
        reported = infection_report(
            course=course, **infection_facts(course), serious=True, reporter="staff"
        )
    with at(2026, 4, 7, 14):
        infection_resolve(report=reported.report, outcome="recovered")
        course_resume(course=course)
    message = Message.objects.get(kind=Kind.NEW_DATES)
    send_all(datetime(2026, 4, 7, 14, 1, tzinfo=UTC))
    message.refresh_from_db()
    assert message.status == Status.SENT
    body = smtp.messages[-1].get_payload()[0].get_payload(decode=True).decode()
    assert "Monday 13 April 2026" in body  # cbc/start+4w moved by the 14-day pause (30 March + 14)
    # Only what the patient goes to: no screening from before the first dose (TB, hepatitis,
    # zoster vaccination status), and no window shown as opening before today.
    assert "Tuberculosis" not in body and "Hepatitis" not in body and "Zoster" not in body
    assert "March" not in body and "any day from Tuesday 7 April 2026" in body


def test_interrupt_result_alerts_staff(course, smtp):
    with at(2026, 3, 20, 15):
        lab_result_record(
            course=course, analyte="anc", value="0.8", unit="10^9/L", collected_on=date(2026, 3, 20)
        )
    alert = Message.objects.get(kind=Kind.RESULT_ALERT_STAFF)
    assert alert.recipient == "nurse@example.org" and alert.context["action"] == "Interrupt"
    send_all(datetime(2026, 3, 20, 15, 1, tzinfo=UTC))
    assert (
        "tofacitinib.anc.interrupt"
        in smtp.messages[0].get_payload()[0].get_payload(decode=True).decode()
    )


def test_smtp_down_then_up_retries_with_backoff(course, smtp):
    with at(2026, 3, 23, 13):
        reminders_queue_due()
    port = smtp.port
    smtp.stop()
    assert send_all(datetime(2026, 3, 23, 13, 1, tzinfo=UTC)) == [Status.QUEUED]
    message = Message.objects.get()
    assert message.attempts == 1 and "Connection" in message.last_error
    assert message.send_after > datetime(2026, 3, 23, 13, 1, 20, tzinfo=UTC)
    assert send_all(datetime(2026, 3, 23, 13, 1, 5, tzinfo=UTC)) == []  # not before the backoff
    smtp.__init__(port)
    smtp.start()
    assert send_all(datetime(2026, 3, 23, 13, 10, tzinfo=UTC)) == [Status.SENT]
    assert len(smtp.messages) == 1 and smtp.messages[0]["Message-ID"] == message.message_id


def test_permanent_refusal_fails_at_once(course, smtp):
    smtp.sink.refuse = "550 5.1.1 No such user"
    with at(2026, 3, 23, 13):
        reminders_queue_due()
    assert send_all(datetime(2026, 3, 23, 13, 1, tzinfo=UTC)) == [Status.FAILED]
    assert "550" in Message.objects.get().last_error


def test_worker_lost_mid_send_is_retried_with_the_same_message_id(course, smtp):
    with at(2026, 3, 23, 13):
        reminders_queue_due()
        _, claimed = _claim(safety_only=False)  # claimed, then the worker "dies" before sending
    assert Message.objects.get().status == Status.SENDING
    assert send_all(datetime(2026, 3, 23, 13, 0, 30, tzinfo=UTC)) == []  # still leased
    assert send_all(datetime(2026, 3, 23, 13, 1, tzinfo=UTC)) == [Status.SENT]  # within a minute
    assert claimed and smtp.messages[0]["Message-ID"] == Message.objects.get().message_id


def test_overdue_marking_and_one_digest_per_day(course, smtp):
    with at(2026, 4, 28, 15):  # the 4-8 week window closed on 27 April (New York)
        assert checks_mark_overdue() == 12
        overdue = course.checks.filter(status=CheckStatus.OVERDUE)
        # Every baseline check (due on the start date), and the 4-week follow-ups whose windows
        # have closed: liver and renal on 13 April, CBC and lipids on 27 April.
        assert sorted(overdue.values_list("plan_key", flat=True)) == sorted(
            [f"{kind}/baseline" for kind in BASELINE_KINDS]
            + [f"{kind}/start+4w" for kind in ("cbc", "lipids", "liver", "renal")]
        )
        assert checks_mark_overdue() == 0
        assert overdue_digests_queue() == 1
        assert overdue_digests_queue() == 0
    send_all(datetime(2026, 4, 28, 15, 1, tzinfo=UTC))
    body = smtp.messages[0].get_payload()[0].get_payload(decode=True).decode()
    assert course.patient.mrn in body and "Full blood count" in body


def test_unsubscribe_link_one_click(client, course, smtp):
    with at(2026, 3, 23, 13):
        reminders_queue_due()
    send_all(datetime(2026, 3, 23, 13, 1, tzinfo=UTC))
    url = smtp.messages[0]["List-Unsubscribe"].strip().strip("<>").split("8000", 1)[1]
    with at(2026, 3, 24, 10):
        assert client.get(url).status_code == 200
        assert client.post(url).status_code == 200  # no session, no CSRF token
        assert client.post(url).status_code == 200  # idempotent
        assert client.post(url.replace(url.split("/")[2], "x" * 43)).status_code == 404
    course.patient.refresh_from_db()
    assert course.patient.reminder_consent is False
    with at(2026, 7, 1, 10):  # links expire
        assert client.get(url).status_code == 404


def test_report_infection_link_pauses_the_course(client, course, smtp):
    with at(2026, 3, 23, 13):
        reminders_queue_due()
    send_all(datetime(2026, 3, 23, 13, 1, tzinfo=UTC))
    text = smtp.messages[0].get_payload()[0].get_payload(decode=True).decode()
    url = next(w for w in text.split() if "/report-infection/" in w).split("8000", 1)[1]
    with at(2026, 3, 24, 10):
        page = client.post(
            url,
            {
                "kind": "respiratory",
                "onset_on": "2026-03-22",
                "serious": "on",
                "description": "fever and cough",
            },
        )
    assert page.status_code == 200 and b"do not take your next dose" in page.content
    course.refresh_from_db()
    assert course.status == CourseStatus.PAUSED
    assert course.infections.get().reporter == "patient"
    assert Message.objects.filter(kind=Kind.PAUSE_ALERT_STAFF).exists()


def test_periodic_tasks_are_installed_once(db):
    from django_celery_beat.models import PeriodicTask

    call_command("setup_periodic_tasks", verbosity=0)
    PeriodicTask.objects.filter(task="clinics.tasks.queue_reminders").update(enabled=False)
    call_command("setup_periodic_tasks", verbosity=0)
    assert PeriodicTask.objects.filter(task__startswith="clinics.tasks.").count() == 6
    assert not PeriodicTask.objects.get(task="clinics.tasks.queue_reminders").enabled


def test_an_install_moves_the_old_one_minute_dispatch_to_15_seconds_unless_changed(db):
    from django_celery_beat.models import IntervalSchedule, PeriodicTask

    minute, _ = IntervalSchedule.objects.get_or_create(every=1, period=IntervalSchedule.MINUTES)
    PeriodicTask.objects.create(name="old", task=TaskName.DISPATCH_MESSAGES, interval=minute)
    call_command("setup_periodic_tasks", verbosity=0)
    dispatch = PeriodicTask.objects.get(task=TaskName.DISPATCH_MESSAGES)
    assert (dispatch.interval.every, dispatch.interval.period) == (15, IntervalSchedule.SECONDS)
    five, _ = IntervalSchedule.objects.get_or_create(every=5, period=IntervalSchedule.MINUTES)
    PeriodicTask.objects.filter(pk=dispatch.pk).update(interval=five)  # staff chose 5 minutes
    call_command("setup_periodic_tasks", verbosity=0)
    assert PeriodicTask.objects.get(pk=dispatch.pk).interval == five


def test_send_after_is_respected(course):
    with at(2026, 3, 23, 13):
        reminders_queue_due()
    Message.objects.update(send_after=datetime(2026, 3, 23, 14, tzinfo=UTC))
    with at(2026, 3, 23, 13, 30):
        assert messages_dispatch() == {"safety": 0, "other": 0}
    with at(2026, 3, 23, 14):
        assert messages_dispatch() == {"safety": 0, "other": 1}


def test_a_claim_sends_once_even_if_the_task_runs_twice(course, smtp):
    with at(2026, 3, 23, 13):
        reminders_queue_due()
        claim, (message,) = _claim(safety_only=False)
        assert message_send(message_id=message.pk, claim=claim) == Status.SENT
        assert message_send(message_id=message.pk, claim=claim) == "stale"
    assert len(smtp.messages) == 1


def test_a_claim_takes_safety_alone_then_expired_leases_then_due_rows_in_send_order(
    course, settings
):
    settings.JAKMONITOR = {**settings.JAKMONITOR, "SEND_BATCH": 3}
    with at(2026, 3, 23, 13):
        reminders_queue_due()
        _copies(Message.objects.get(), 5, "more")
    rows = list(Message.objects.order_by("id"))
    late = datetime(2026, 3, 23, 12, tzinfo=UTC)
    Message.objects.filter(pk=rows[0].pk).update(send_after=late.replace(hour=14))  # not yet
    Message.objects.filter(pk=rows[1].pk).update(send_after=late)  # due longest
    Message.objects.filter(pk=rows[2].pk).update(status=Status.SENDING, lease_until=late)  # dead
    Message.objects.filter(pk=rows[3].pk).update(
        status=Status.SENDING,
        lease_until=datetime(2026, 3, 23, 13, 5, tzinfo=UTC),  # held
    )
    Message.objects.filter(pk=rows[4].pk).update(safety=True)
    with at(2026, 3, 23, 13, 1):
        _, alerts = _claim(safety_only=False)
        claim, batch = _claim(safety_only=False)
        _, rest = _claim(safety_only=False)
    assert [m.pk for m in alerts] == [rows[4].pk]  # safety messages in a batch of their own
    assert [m.pk for m in batch] == [rows[1].pk, rows[2].pk, rows[5].pk]  # the expired lease too
    assert {m.claim for m in batch} == {claim} and all(m.attempts == 1 for m in batch)
    assert rest == []  # the held and the not-yet rows stay
    assert Message.objects.get(pk=rows[3].pk).claim is None


def test_a_sent_row_forgets_its_claim_and_its_failures(course, smtp):
    with at(2026, 3, 23, 13):
        reminders_queue_due()
    failing = datetime(2026, 3, 23, 12, tzinfo=UTC)
    Message.objects.update(failing_since=failing, last_error="SMTPServerDisconnected: gone")
    send_all(datetime(2026, 3, 23, 13, 1, tzinfo=UTC))
    message = Message.objects.get()
    assert (message.status, message.sent_at) == (
        Status.SENT,
        datetime(2026, 3, 23, 13, 1, tzinfo=UTC),
    )
    assert (message.claim, message.lease_until, message.failing_since) == (None, None, None)
    assert (message.last_error, message.attempts) == ("", 1)


def test_no_reminder_in_quiet_hours(course):
    # 23 March 21:30 in New York is 01:30 UTC on the 24th: too late; the next day is too late
    # for a 7-day reminder, so it is not sent at all rather than a day late.
    with at(2026, 3, 24, 1, 30):
        assert reminders_queue_due() == 0


def test_reminder_says_where_to_go(course, smtp):
    course.patient.clinic.test_location = "Phlebotomy, Level 2, Main Hospital"
    course.patient.clinic.save()
    with at(2026, 3, 23, 13):
        reminders_queue_due()
    send_all(datetime(2026, 3, 23, 13, 1, tzinfo=UTC))
    assert (
        "Where to go: Phlebotomy, Level 2"
        in smtp.messages[0].get_payload()[0].get_payload(decode=True).decode()
    )


@pytest.mark.parametrize(
    "error,transient",
    [
        (smtplib.SMTPServerDisconnected("gone"), True),
        (smtplib.SMTPResponseException(451, b"try later"), True),
        (smtplib.SMTPResponseException(554, b"rejected"), False),
        (smtplib.SMTPRecipientsRefused({"a@b": (550, b"no such user")}), False),
        (smtplib.SMTPAuthenticationError(535, b"bad credentials"), True),  # fixed by an operator
        (ConnectionRefusedError(), True),
        (AnymailAPIError("rate limited", status_code=429), True),
        (AnymailAPIError("bad request", status_code=400), False),
        (AnymailRecipientsRefused("refused"), False),
    ],
)
def test_failures_are_classified(error, transient):
    assert _is_transient(error) is transient


def test_a_sender_out_of_time_hands_over_to_a_new_task(
    course, smtp, settings, django_capture_on_commit_callbacks
):
    settings.JAKMONITOR = {**settings.JAKMONITOR, "SEND_BATCH": 1, "SEND_BUDGET_SECONDS": 0}
    with at(2026, 3, 23, 13):
        reminders_queue_due()
        _copies(Message.objects.get(), 1, "second")  # a second message due
        with django_capture_on_commit_callbacks() as callbacks:
            assert messages_send_due() == [Status.SENT]  # one batch, then the budget is spent
    assert len(callbacks) == 1  # another sender task carries on
    assert Message.objects.filter(status=Status.QUEUED).count() == 1


def test_report_infection_link_works_with_an_empty_form(client, course):
    """Nothing ticked, nothing typed: still a report (a POST with no fields is a submission)."""
    from clinics.services.link_tokens import link_issue

    token = link_issue(purpose=LinkPurpose.REPORT_INFECTION, patient=course.patient, course=course)
    with at(2026, 3, 24, 10):
        page = client.post(f"/links/{token}/report-infection/")
    assert page.status_code == 200
    course.refresh_from_db()
    report = course.infections.get()
    assert course.status == CourseStatus.PAUSED and report.serious is False
    assert (report.kind, report.onset_on) == ("other", None)  # "not sure", not invented
    assert str(report) == "Other, start not given (reported 2026-03-24)"


def test_staff_resend_for_an_overdue_check_says_since_when(course, smtp):
    with at(2026, 4, 20, 13):  # the 4-week checks (due 30 March) are overdue by now
        checks_mark_overdue()
        check = course.checks.filter(status=CheckStatus.OVERDUE).first()
        reminder_resend(check=check)
    assert send_all(datetime(2026, 4, 20, 13, 1, tzinfo=UTC)) == [Status.SENT]
    (mail,) = smtp.messages
    text = mail.get_payload()[0].get_payload(decode=True).decode()
    assert f"Since {check.due_date.isoformat()} you have been due" in text
    assert mail["Subject"] == f"Reminder: monitoring checks due since {check.due_date.isoformat()}"


def test_resend_is_refused_without_consent_or_while_paused(course):
    check = course.checks.filter(status=CheckStatus.SCHEDULED).first()
    patient = course.patient
    patient.reminder_consent = False
    patient.save()
    with pytest.raises(ValidationError) as refused:
        reminder_resend(check=check)
    assert "reminder_consent" in refused.value.message_dict
    patient.reminder_consent = True
    patient.save()
    with at(2026, 3, 10, 15):
        infection_report(course=course, **infection_facts(course), serious=False, reporter="staff")
        with pytest.raises(LifecycleConflict) as paused:
            reminder_resend(check=check)
    assert "status" in paused.value.message_dict
    assert not Message.objects.filter(kind=Kind.REMINDER).exists()


def test_a_long_outage_keeps_retrying_for_the_retry_period_then_fails_with_why(course, smtp):
    with at(2026, 3, 23, 13):
        reminders_queue_due()
    smtp.stop()
    assert send_all(datetime(2026, 3, 23, 13, 1, tzinfo=UTC)) == [Status.QUEUED]
    message = Message.objects.get()
    assert message.failing_since == datetime(2026, 3, 23, 13, 1, tzinfo=UTC)
    for day in (1, 2):  # an outage of days: still retried (backoff capped at an hour)
        assert send_all(datetime(2026, 3, 23 + day, 13, 1, tzinfo=UTC)) == [Status.QUEUED]
        message.refresh_from_db()
        assert message.send_after <= datetime(2026, 3, 23 + day, 14, 15, tzinfo=UTC)
    assert send_all(datetime(2026, 3, 26, 13, 2, tzinfo=UTC)) == [Status.FAILED]  # 3 days on
    with at(2026, 3, 26, 13, 2):
        message.refresh_from_db()
        assert failure_reason(message).startswith("Kept failing for 72 h (4 tries), then given")


def test_a_failed_message_requeued_is_sent_with_its_message_id(course, smtp):
    smtp.sink.refuse = "550 5.1.1 No such user"
    with at(2026, 3, 23, 13):
        reminders_queue_due()
    assert send_all(datetime(2026, 3, 23, 13, 1, tzinfo=UTC)) == [Status.FAILED]
    message = Message.objects.get()
    assert failure_reason(message).startswith("Refused by the mail server")
    smtp.sink.refuse = None  # the address was corrected
    with at(2026, 3, 23, 14):
        message_requeue(message=message)
        with pytest.raises(LifecycleConflict, match="Only a failed message"):
            message_requeue(message=message)
    assert send_all(datetime(2026, 3, 23, 14, 0, 1, tzinfo=UTC)) == [Status.SENT]
    assert smtp.messages[0]["Message-ID"] == message.message_id


def test_a_safety_message_refused_for_good_alerts_the_other_staff(course, smtp):
    smtp.sink.refuse_to[course.patient.email] = "550 5.1.1 No such user"
    with at(2026, 3, 23, 13):
        infection_report(course=course, **infection_facts(course), serious=True, reporter="staff")
    outcomes = send_all(datetime(2026, 3, 23, 13, 0, 5, tzinfo=UTC))
    assert sorted(outcomes) == [Status.FAILED, Status.SENT, Status.SENT]
    failed = Message.objects.get(status=Status.FAILED)
    assert failed.kind == Kind.PAUSE_ALERT_PATIENT and failed.safety
    (told,) = [m for m in smtp.messages if m["Subject"].startswith("Safety message not")]
    assert told["To"] == "nurse@example.org"
    assert course.patient.mrn in told["Subject"]
    text = told.get_payload()[0].get_payload(decode=True).decode()
    assert "may not know" in text and "550" in text


def test_a_line_break_in_a_stored_mrn_cannot_stop_a_pause_alert(course, smtp):
    """The API accepted control characters in MRNs; a CR LF in a subject made the staff alert
    fail for good (BadHeaderError)."""
    type(course.patient).objects.filter(pk=course.patient.pk).update(
        mrn="NL-1\r\nBcc: someone@example.org"
    )
    course.refresh_from_db()
    with at(2026, 3, 23, 13):
        infection_report(course=course, **infection_facts(course), serious=True, reporter="staff")
    assert send_all(datetime(2026, 3, 23, 13, 0, 5, tzinfo=UTC)) == [Status.SENT, Status.SENT]
    staff = next(m for m in smtp.messages if m["To"] == "nurse@example.org")
    assert staff["Subject"] == "Course paused: infection reported (NL-1 Bcc: someone@example.org)"
    assert staff["Bcc"] is None
    assert all(m["To"] != "someone@example.org" for m in smtp.messages)


def test_safety_messages_are_sent_ahead_of_a_reminder_backlog(course, smtp, settings):
    from tests.support.factories import PatientFactory

    other = PatientFactory(clinic=course.patient.clinic)
    with at(2026, 3, 2, 15):
        tofacitinib_course(patient=other, start_date=course.start_date)
    settings.JAKMONITOR = {**settings.JAKMONITOR, "SEND_BATCH": 2}
    with at(2026, 3, 23, 13):
        reminders_queue_due()
        _copies(Message.objects.get(patient=other), 5, "backlog")  # queued before the alert
        infection_report(course=course, **infection_facts(course), serious=True, reporter="staff")
    with at(2026, 3, 23, 13, 0, 1):
        assert messages_send_due(safety_only=True) == [Status.SENT, Status.SENT]  # alerts only
        assert Message.objects.filter(status=Status.QUEUED).count() == 6
        Message.objects.filter(safety=True).update(status=Status.QUEUED)  # as if just queued
        assert len(messages_send_due()) == 8
    kinds = [m["Subject"].split(":")[0] for m in smtp.messages[2:]]
    assert kinds[:2] == ["Course paused", "Your treatment is on hold"]  # the first batch
    assert len(kinds) == 8


def test_a_server_down_costs_one_try_per_batch_not_one_per_message(course, smtp, settings):
    with at(2026, 3, 23, 13):
        reminders_queue_due()
        _copies(Message.objects.get(), 3, "more")
    smtp.stop()
    assert send_all(datetime(2026, 3, 23, 13, 1, tzinfo=UTC)) == [Status.QUEUED]
    rows = Message.objects.order_by("id")
    assert [m.attempts for m in rows] == [1, 0, 0, 0]
    assert {m.status for m in rows} == {Status.QUEUED} and not any(m.claim for m in rows)


def test_a_pause_that_ended_by_the_first_dose_sends_no_new_dates(patient, clinician):
    with at(2026, 3, 2, 15):
        course = tofacitinib_course(patient=patient, start_date=date(2026, 3, 30))
    with at(2026, 3, 12, 15):
        course_pause(course=course, reason="clinician")
    with at(2026, 3, 30, 15):
        course_resume(course=course)  # on the start day: no date moved
    # It would have listed the screening before the first dose (TB, hepatitis, zoster status)
    # as new dates, with windows that began four weeks earlier.
    assert not Message.objects.filter(kind=Kind.NEW_DATES).exists()


def test_a_message_that_cannot_be_rendered_fails_alone(course, smtp):
    with at(2026, 3, 23, 13):
        reminders_queue_due()
        good = Message.objects.get()
        broken = Message.objects.create(  # a kind with no template: rendering raises
            clinic=good.clinic,
            recipient="nurse@example.org",
            kind="no_such_kind",
            subject="s",
            dedupe_key="broken",
            message_id="<broken@localhost>",
            send_after=good.send_after,
            safety=True,  # claimed first, ahead of the good one
        )
    assert sorted(send_all(datetime(2026, 3, 23, 13, 1, tzinfo=UTC))) == [
        Status.FAILED,
        Status.SENT,
    ]
    broken.refresh_from_db()
    assert broken.status == Status.FAILED and "TemplateDoesNotExist" in broken.last_error
    assert [m["Message-ID"] for m in smtp.messages] == [good.message_id]


def test_a_safety_message_that_fails_again_after_a_requeue_alerts_again(course, smtp):
    smtp.sink.refuse_to[course.patient.email] = "550 5.1.1 No such user"
    with at(2026, 3, 23, 13):
        infection_report(course=course, **infection_facts(course), serious=True, reporter="staff")
    send_all(datetime(2026, 3, 23, 13, 0, 5, tzinfo=UTC))
    failed = Message.objects.get(status=Status.FAILED)
    with at(2026, 3, 23, 14):
        message_requeue(message=failed)
    send_all(datetime(2026, 3, 23, 14, 0, 5, tzinfo=UTC))
    told = [m for m in smtp.messages if m["Subject"].startswith("Safety message not")]
    assert len(told) == 2  # the address is still refused: staff are told each time


def test_dates_in_emails_are_written_out_in_the_patients_language():
    from django.utils import translation

    from clinics.templatetags.clinics_email import long_date

    assert long_date(date(2026, 11, 9)) == "Monday 9 November 2026"
    with translation.override("fr"):
        assert long_date(date(2026, 11, 9)) == "lundi 9 novembre 2026"
    assert long_date(None) == ""


def test_a_new_worker_process_has_every_email_ready_and_its_startup_frozen():
    import gc

    from clinics.tasks import _prepare

    try:
        _prepare()  # at worker_process_init; a kind of email without its templates fails here
        assert gc.get_freeze_count() > 10_000  # Django, the URL map and templates: not rescanned
    finally:
        gc.unfreeze()


def test_stopping_a_course_tells_the_patient_with_the_contraception_period(course, smtp):
    with at(2026, 4, 1, 14):
        course_stop(course=course, reason="patient_choice")
    message = Message.objects.get(kind=Kind.COURSE_STOPPED)
    assert message.context["contraception"]["until"] == "2026-04-29"  # 4 weeks after the last dose
    send_all(datetime(2026, 4, 1, 14, 1, tzinfo=UTC))
    body = smtp.messages[-1].get_payload()[0].get_payload(decode=True).decode()
    assert "stopped your treatment with Tofacitinib" in body
    assert "at least 4 weeks after the last dose" in body and "Wednesday 29 April 2026" in body
    assert "contact your clinic" in body and "To stop these emails:" in body


def test_no_contraception_period_for_a_patient_not_of_reproductive_potential(course, smtp):
    patient = course.patient
    patient.reproductive_potential = False
    patient.save()
    with at(2026, 4, 1, 14):
        course_stop(course=course, reason="failure")
    message = Message.objects.get(kind=Kind.COURSE_STOPPED)
    assert "contraception" not in message.context

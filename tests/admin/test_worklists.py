"""Staff worklists and the dashboard: the right rows, only the user's clinics, CSV export, and a
number of queries that does not grow with the rows."""

import re
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from clinics.core.vocab import CheckStatus, CourseStatus, MessageKind, MessageStatus
from clinics.models import (
    Finding,
    InfectionReport,
    LabResult,
    Message,
    MonitoringCheck,
    Patient,
    TherapyCourse,
)
from clinics.selectors.worklists import checks_due_now, checks_due_this_week
from clinics.services.staff import staff_member_add
from tests.support.factories import ClinicFactory, patients_with_a_check_due

WORKLISTS = [
    "openfinding",
    "duenowcheck",
    "overduecheck",
    "resultspendingcheck",
    "duethisweekcheck",
    "pausedcourse",
    "coursewithoutnextcheck",
    "failedmessage",
]


def populate(clinic, count: int) -> None:
    """`count` patients, each with one check due in two days; then a share of them overdue,
    paused (with a result and an infection report), done (so the course has no next check), due
    now (since yesterday), sampled with results pending, and a failed message each; each paused
    course's result opened a finding."""
    today = clinic.today()
    checks = patients_with_a_check_due(
        clinic=clinic,
        count=count,
        due=today + timedelta(days=2),
        started=today - timedelta(days=30),
    )
    ids = [c.pk for c in checks]
    MonitoringCheck.objects.filter(pk__in=ids[: count // 4]).update(
        status=CheckStatus.OVERDUE,
        window_end=today - timedelta(days=1),
        due_date=today - timedelta(days=3),
        window_start=today - timedelta(days=5),
    )
    MonitoringCheck.objects.filter(pk__in=ids[count // 4 : count // 2]).update(
        status=CheckStatus.DONE, completed_on=today
    )
    MonitoringCheck.objects.filter(pk__in=ids[count - count // 10 :]).update(
        window_start=today - timedelta(days=1), due_date=today - timedelta(days=1)
    )
    sampled = count // 2 + count // 10
    MonitoringCheck.objects.filter(pk__in=ids[sampled : sampled + count // 20]).update(
        status=CheckStatus.PENDING, sampled_on=today
    )
    courses = TherapyCourse.objects.filter(
        checks__pk__in=ids[count // 2 : count // 2 + count // 10]
    )
    courses.update(status=CourseStatus.PAUSED)
    courses = list(courses)
    findings = Finding.objects.bulk_create(
        Finding(course=c, collected_on=today, action="interrupt", opened_at=timezone.now())
        for c in courses
    )
    LabResult.objects.bulk_create(
        LabResult(course=c, analyte="hb", value=7, unit="g/dL", collected_on=today, finding=finding)
        for c, finding in zip(courses, findings, strict=True)
    )
    InfectionReport.objects.bulk_create(
        InfectionReport(course=c, serious=False, reporter="staff", reported_at=timezone.now())
        for c in courses
    )
    Message.objects.bulk_create(
        Message(
            clinic=clinic,
            recipient=f"p{n}@example.org",
            kind=MessageKind.REMINDER,
            subject="s",
            dedupe_key=f"bulk/{clinic.pk}/{n}",
            status=MessageStatus.FAILED,
            send_after=timezone.now(),
            message_id=f"<{n}@test>",
            last_error="550 no such user",
        )
        for n in range(count)
    )


@pytest.fixture
def staff(client, rules_loaded):
    mine, other = ClinicFactory(name="Alpha Clinic"), ClinicFactory(name="Other Clinic")
    staff_member_add(
        clinic=mine,
        username="viv",
        email="viv@example.org",
        role="viewer",
        password="a-long-test-password",
    )
    assert client.login(username="viv", password="a-long-test-password")
    return mine, other


def test_dashboard_counts_each_worklist_for_own_clinics_only(client, staff):
    mine, other = staff
    populate(mine, 20)
    populate(other, 8)
    page = client.get("/admin/").content.decode()
    assert "Alpha Clinic" in page and "Other Clinic" not in page
    # findings 2 (the paused courses' results), due now 2, overdue 5, results pending 1, coming up this week 7 (20 minus 5 overdue, 5 done,
    # 2 due now, 1 pending), paused 2, no next check 6 (5 done, and the one whose only check is
    # awaiting results: nothing after it is planned), failed 20
    counts = [int(c) for c in re.findall(r'data-count="(\d+)"', page)]
    assert counts == [2, 2, 5, 1, 7, 2, 6, 20]


def test_due_now_and_this_week_run_on_each_clinics_own_date(rules_loaded):
    """At noon UTC on 10 March, Kiritimati (UTC+14) is on the 11th, Pago Pago (UTC-11) on the
    10th: a check due on the 11th is due now in the one, coming up in the other."""
    ahead = ClinicFactory(name="Ahead", time_zone="Pacific/Kiritimati")
    behind = ClinicFactory(name="Behind", time_zone="Pacific/Pago_Pago")
    with time_machine.travel(datetime(2026, 3, 10, 12, tzinfo=UTC), tick=False):
        for clinic in (ahead, behind):
            _, later = patients_with_a_check_due(
                clinic=clinic, count=2, due=date(2026, 3, 11), started=date(2026, 1, 1)
            )
            MonitoringCheck.objects.filter(pk=later.pk).update(
                due_date=date(2026, 3, 17),
                window_start=date(2026, 3, 17),
                window_end=date(2026, 3, 31),
            )

        def listed(checks):
            rows = checks.select_related("course__patient__clinic")
            return {(c.course.patient.clinic.name, c.due_date.day) for c in rows}

        assert listed(checks_due_now()) == {("Ahead", 11)}
        assert listed(checks_due_this_week()) == {("Ahead", 17), ("Behind", 11)}


def test_worklists_list_own_rows_and_export_csv(client, staff):
    mine, other = staff
    populate(mine, 12)
    populate(other, 12)
    Patient.objects.filter(mrn="D000000", clinic=mine).update(family_name="=HYPERLINK(1)")
    for name in WORKLISTS:
        page = client.get(f"/admin/clinics/{name}/")
        assert page.status_code == 200, name
        assert b"Download this list (CSV)" in page.content
    overdue = client.get("/admin/clinics/overduecheck/export.csv")
    lines = b"".join(overdue.streaming_content).decode().splitlines()
    assert lines[0].startswith("MRN,Family name") and len(lines) == 1 + 3
    assert any(",'=HYPERLINK(1)," in line for line in lines)  # not run as a formula
    searched = client.get("/admin/clinics/failedmessage/export.csv?q=p1%40example.org")
    assert len(b"".join(searched.streaming_content).decode().splitlines()) == 2
    other_pk = MonitoringCheck.objects.filter(course__patient__clinic=other).first().pk
    assert client.get(f"/admin/clinics/overduecheck/{other_pk}/change/").status_code == 404


CHANGELISTS = [
    "patient",
    "therapycourse",
    "monitoringcheck",
    "labresult",
    "infectionreport",
    "finding",
    "message",
]


@pytest.mark.parametrize(
    "page", ["/admin/", *[f"/admin/clinics/{name}/" for name in WORKLISTS + CHANGELISTS]]
)
def test_queries_do_not_grow_with_rows(client, staff, page):
    mine, _ = staff
    populate(mine, 10)
    client.get(page)  # warm caches (content types, sessions)
    with CaptureQueriesContext(connection) as small:
        assert client.get(page).status_code == 200
    more = ClinicFactory(name="More")
    staff_member_add(clinic=more, username="viv", email="viv@example.org", role="viewer")
    populate(more, 1000)
    with CaptureQueriesContext(connection) as large:
        assert client.get(page).status_code == 200
    assert len(large) == len(small), [q["sql"][:120] for q in large.captured_queries]


def test_undelivered_safety_messages_head_the_dashboard_and_can_be_requeued(client, staff):
    mine, other = staff
    for clinic in (mine, other):
        Message.objects.create(
            clinic=clinic,
            recipient="patient@example.org",
            kind=MessageKind.PAUSE_ALERT_PATIENT,
            safety=True,
            subject="Your treatment is on hold",
            dedupe_key=f"failed-alert/{clinic.pk}",
            status=MessageStatus.FAILED,
            send_after=timezone.now(),
            message_id=f"<alert-{clinic.pk}@test>",
            last_error="SMTPRecipientsRefused: 550 no such user",
        )
    page = client.get("/admin/").content.decode()
    assert page.index(f'id="undelivered-safety-{mine.pk}"') < page.index("<h2>Worklists</h2>")
    assert "1 safety message could not be delivered" in page
    assert f"undelivered-safety-{other.pk}" not in page  # only the user's own clinics
    listed = client.get(
        f"/admin/clinics/failedmessage/?clinic__id__exact={mine.pk}&safety__exact=1"
    )
    assert "Refused by the mail server" in listed.content.decode()
    mine_failed = Message.objects.get(clinic=mine)
    requeue = {"action": "requeue", "_selected_action": [mine_failed.pk]}
    refused = client.post("/admin/clinics/failedmessage/", requeue, follow=True)
    assert "not requeued: your role does not allow it" in refused.content.decode()  # a viewer
    staff_member_add(
        clinic=mine,
        username="coco",
        email="coco@example.org",
        role="coordinator",
        password="a-long-test-password",
    )
    assert client.login(username="coco", password="a-long-test-password")
    done = client.post("/admin/clinics/failedmessage/", requeue, follow=True)
    assert "1 message(s) requeued." in done.content.decode()
    mine_failed.refresh_from_db()
    assert mine_failed.status == MessageStatus.QUEUED and mine_failed.attempts == 0
    assert "undelivered-safety" not in client.get("/admin/").content.decode()

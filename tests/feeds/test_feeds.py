"""Calendar feeds: content (RFC 5545/7986), stability across re-plans, privacy, HTTP revalidation
and the secret URLs. Every feed a test fetches is also read by icalendar and by ical.js.

The clinic is in New York (see conftest); time is moved with time-machine.
"""

import uuid
from base64 import urlsafe_b64decode
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db.models import F
from django.urls import reverse

from clinics.core.vocab import CheckStatus, CourseStatus, MessageKind, MessageStatus
from clinics.feeds.tokens import feed_token, feed_urls
from clinics.models import CalendarFeed, Drug, Message, MonitoringCheck
from clinics.services.calendar_feeds import calendar_feed_issue, calendar_feed_revoke
from clinics.services.checks import check_complete
from clinics.services.courses import course_change_dose, course_resume, course_start, course_stop
from clinics.services.infections import infection_report, infection_resolve
from clinics.services.staff import staff_member_add
from tests.support.clock import START, at
from tests.support.factories import ClinicFactory, PatientFactory, infection_facts, without_values
from tests.support.ical_parsers import parse_both, parse_ical_js, parse_icalendar
from tests.support.outbox import send_all
from tests.support.snapshots import assert_matches_snapshot

SNAPSHOT = Path(__file__).parent / "snapshots" / "patient_feed.ics"


@pytest.fixture
def nurse(clinic):
    return staff_member_add(
        clinic=clinic,
        username="nurse",
        email="nurse@example.org",
        role="clinician",
        password="a-long-test-password",
    )


def path_of(feed: CalendarFeed) -> str:
    return reverse("calendar-feed", args=[feed_token(feed)])


def fetch(client, feed, **headers):
    """GET a feed; every feed a test fetches must parse in both icalendar and ical.js."""
    response = client.get(path_of(feed), headers=headers)
    assert response.status_code == 200, response.status_code
    parse_both(response.content)
    return response


def events_by_uid(body: bytes) -> dict[str, dict]:
    return {e["uid"]: e for e in parse_ical_js(body)[0]["events"]}


def test_patient_feed_has_one_all_day_event_per_open_check(client, course):
    feed = calendar_feed_issue(patient=course.patient)
    with at(2026, 3, 10, 12):
        response = fetch(client, feed)
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    assert response["Cache-Control"] == "private, no-cache"
    assert response["Referrer-Policy"] == "no-referrer"
    assert "Set-Cookie" not in response  # no session
    calendar, seen = parse_both(response.content)
    open_checks = course.checks.filter(status__in=[CheckStatus.SCHEDULED, CheckStatus.OVERDUE])
    assert {e["uid"] for e in seen["events"]} == {str(c.uuid) for c in open_checks}
    assert all(e["allDay"] and e["status"] == "CONFIRMED" for e in seen["events"])
    assert seen["method"] == "PUBLISH" and seen["refresh"] == "PT12H"
    for vevent in calendar.walk("VEVENT"):
        check = open_checks.get(uuid=vevent["UID"])
        assert vevent.decoded("DTSTART") == check.due_date
        assert vevent.decoded("DTEND") == check.due_date + timedelta(days=1)  # exclusive
        assert vevent["SEQUENCE"] == check.sequence
        assert vevent.decoded("DTSTAMP") == vevent.decoded("LAST-MODIFIED") >= check.updated_at
        assert check.window_start.strftime("%-d %B %Y") in str(vevent["DESCRIPTION"])
    assert calendar["NAME"] == calendar["X-WR-CALNAME"]


def test_no_drug_diagnosis_or_clinic_name_unless_the_clinic_allows(client, course):
    clinic = course.patient.clinic
    clinic.name = "Riverside Rheumatology"  # a clinic's name can tell the diagnosis
    clinic.save()
    feed = calendar_feed_issue(patient=course.patient)
    body = fetch(client, feed).content.decode().lower()
    for secret in (
        "tofacitinib",
        "xeljanz",
        "rheumat",
        "jak inhibitor",
        course.patient.family_name.lower(),
    ):
        assert secret not in body
    assert "contact your clinic" in body
    clinic.calendar_details = True
    clinic.save()
    body = fetch(client, feed).content
    summaries = [e["summary"] for e in parse_ical_js(body)[0]["events"]]
    assert summaries and all(s.endswith("(Tofacitinib)") for s in summaries)
    assert b"Riverside Rheumatology" in body


def test_feed_matches_the_reviewed_snapshot(client, patient):
    """The whole feed, byte for byte. Review a change to the snapshot like code; regenerate with
    UPDATE_SNAPSHOTS=1 bin/test tests/feeds -k snapshot."""
    clinic = patient.clinic
    clinic.name, clinic.contact_phone = (
        "Riverside Rheumatology, Suite 4; Floor 2",
        "+1 212 555 0100",
    )
    clinic.test_location = "Riverside Lab, 1 Main St (walk-in 8am-4pm, no appointment needed)"
    clinic.calendar_alert_days = 1
    with at(2026, 3, 1, 14):
        clinic.save()
        started = course_start(
            patient=patient,
            drug=Drug.objects.get(code="baricitinib"),
            dose_code="2mg-qd-us",
            indication="ra",
            start_date=START,
        ).course
        for n, check in enumerate(started.checks.order_by("due_date", "kind", "plan_key")):
            MonitoringCheck.objects.filter(pk=check.pk).update(uuid=uuid.UUID(int=n + 1))
        feed = calendar_feed_issue(patient=patient)
    with at(2026, 3, 5, 9):
        body = fetch(client, feed).content
    parse_both(body)
    assert_matches_snapshot(body, SNAPSHOT)


def test_replan_keeps_uids_and_raises_sequence_of_moved_events(client, course, nurse):
    feed = calendar_feed_issue(patient=course.patient)
    with at(2026, 4, 1, 12):
        before = events_by_uid(fetch(client, feed).content)
        report = infection_report(
            course=course, **infection_facts(course), serious=True, reporter="staff"
        ).report
    with at(2026, 4, 15, 12):
        infection_resolve(report=report, outcome="recovered")
        course_resume(course=course)
        after = events_by_uid(fetch(client, feed).content)
    assert set(before) <= set(after)  # the same UIDs: clients update, never duplicate
    moved = [uid for uid in before if after[uid]["start"] != before[uid]["start"]]
    assert moved, "a two-week pause moves the follow-up checks"
    for uid in moved:
        assert after[uid]["sequence"] > before[uid]["sequence"]
        assert after[uid]["status"] == "CONFIRMED"


def vevents(body: bytes) -> dict[str, bytes]:
    """Each VEVENT's exact bytes by UID."""
    blocks = body.split(b"BEGIN:VEVENT\r\n")[1:]
    return {
        parse_icalendar(
            b"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\n"
            + b.split(b"END:VEVENT")[0]
            + b"END:VEVENT\r\nEND:VCALENDAR\r\n"
        ).walk("VEVENT")[0]["UID"]: b
        for b in blocks
    }


def test_unchanged_events_keep_their_sequence_and_bytes(client, course):
    feed = calendar_feed_issue(patient=course.patient)
    with at(2026, 3, 10, 12):
        before = vevents(fetch(client, feed).content)
        sequences = dict(course.checks.values_list("uuid", "sequence"))
        course_change_dose(course=course, dose_code="11mg-qd-xr")
        after = vevents(fetch(client, feed).content)
    now = dict(course.checks.values_list("uuid", "sequence"))
    unchanged = [str(u) for u in now if now[u] == sequences.get(u)]
    assert len(unchanged) >= len(before) // 2, "a dose change leaves most checks as they were"
    for uid in unchanged:
        assert after[uid] == before[uid]  # byte for byte: clients see no change
    for uid in set(before) - set(unchanged):
        assert after.get(uid) != before[uid]


def test_pause_cancels_events_and_resume_brings_them_back_with_new_dates(client, course, nurse):
    clinic = course.patient.clinic
    clinic.calendar_alert_days = 1
    clinic.save()
    feed = calendar_feed_issue(patient=course.patient)
    with at(2026, 4, 1, 12):
        report = infection_report(
            course=course, **infection_facts(course), serious=True, reporter="staff"
        ).report
        paused = events_by_uid(fetch(client, feed).content)
    held = list(course.checks.filter(status=CheckStatus.ON_HOLD))
    assert held
    for check in held:
        assert paused[str(check.uuid)]["status"] == "CANCELLED"
    assert not any(e["alarms"] for e in paused.values())  # no alert for a check on hold
    with at(2026, 4, 29, 12):
        infection_resolve(report=report, outcome="recovered")
        course_resume(course=course)
        resumed = events_by_uid(fetch(client, feed).content)
    course.refresh_from_db()
    assert course.status == CourseStatus.ACTIVE
    for check in held:
        check.refresh_from_db()
        event = resumed[str(check.uuid)]
        assert event["alarms"] == (1 if check.status == CheckStatus.SCHEDULED else 0)
        assert event["status"] == "CONFIRMED"
        assert event["sequence"] > paused[str(check.uuid)]["sequence"]
        assert event["start"] == check.due_date.isoformat()
    assert any(resumed[str(c.uuid)]["start"] > paused[str(c.uuid)]["start"] for c in held)


def test_cancelled_events_stay_long_enough_to_be_removed(client, course):
    feed = calendar_feed_issue(patient=course.patient)
    with at(2026, 3, 10, 12):
        course_stop(course=course, reason="patient_choice")
        events = events_by_uid(fetch(client, feed).content)
    assert events and all(e["status"] == "CANCELLED" for e in events.values())
    with at(2026, 5, 8, 12):  # 59 days later: still there, for phones that were off for weeks
        assert len(events_by_uid(fetch(client, feed).content)) == len(events)
    with at(2026, 5, 10, 12):  # 61 days later: gone
        assert events_by_uid(fetch(client, feed).content) == {}


def test_done_checks_stay_for_a_year(client, course):
    feed = calendar_feed_issue(patient=course.patient)
    check = course.checks.get(plan_key="tb/baseline")
    with at(2026, 3, 2, 15):
        check_complete(check=check, completed_on=date(2026, 3, 2), **without_values(check))
    with at(2027, 3, 1, 15):
        event = events_by_uid(fetch(client, feed).content)[str(check.uuid)]
        assert event["summary"].startswith("Done:") and event["status"] == "CONFIRMED"
    with at(2027, 3, 3, 15):
        assert str(check.uuid) not in events_by_uid(fetch(client, feed).content)


def test_http_revalidation_with_etag_and_last_modified(client, course):
    feed = calendar_feed_issue(patient=course.patient)
    with at(2026, 3, 10, 12):
        first = fetch(client, feed)
        etag, modified = first["ETag"], first["Last-Modified"]
        again = client.get(path_of(feed), headers={"If-None-Match": etag})
        assert again.status_code == 304 and again.content == b""
        assert again["ETag"] == etag and again["Cache-Control"] == "private, no-cache"
        since = client.get(path_of(feed), headers={"If-Modified-Since": modified})
        assert since.status_code == 304
        head = client.head(path_of(feed))
        assert head.status_code == 200 and head["ETag"] == etag
    with at(2026, 3, 10, 12, 0, 0, 500):  # the same second: Last-Modified must still advance
        course_change_dose(course=course, dose_code="11mg-qd-xr")
        changed = client.get(path_of(feed), headers={"If-None-Match": etag})
        assert changed.status_code == 200 and changed["ETag"] != etag
        by_date = client.get(path_of(feed), headers={"If-Modified-Since": modified})
        assert by_date.status_code == 200 and by_date["Last-Modified"] != modified
    assert client.post(path_of(feed)).status_code == 405


def test_feed_version_follows_the_clinic_local_date(client, course, settings):
    """What a feed shows moves with the clinic's date, whatever the server's time zone."""
    settings.TIME_ZONE = "Pacific/Auckland"
    feed = calendar_feed_issue(patient=course.patient)
    with at(2026, 3, 10, 20, 0):  # 16:00 on 10 March in New York (EDT since 8 March, UTC-4)
        earlier = fetch(client, feed)
    with at(2026, 3, 11, 3, 59):  # 23:59 on 10 March in New York; 16:59 on 11 March in Auckland
        late = fetch(client, feed)
    with at(2026, 3, 11, 4, 1):  # 00:01 on 11 March in New York
        next_day = fetch(client, feed)
    assert earlier["ETag"] == late["ETag"] != next_day["ETag"]
    assert late.content == next_day.content  # same rows, same bytes: only the version moved
    settings.TIME_ZONE = "America/Los_Angeles"
    with at(2026, 3, 11, 4, 1):
        assert fetch(client, feed).content == next_day.content


def test_alert_at_the_reminder_hour_days_before(client, course):
    clinic = course.patient.clinic
    clinic.calendar_alert_days, clinic.reminder_hour = 2, 8
    clinic.save()
    feed = calendar_feed_issue(patient=course.patient)
    calendar = parse_icalendar(fetch(client, feed).content)
    alarms = [a for a in calendar.walk("VALARM")]
    assert alarms and all(a.decoded("TRIGGER") == timedelta(days=-2, hours=8) for a in alarms)
    assert all(str(a["ACTION"]) == "DISPLAY" for a in alarms)


def test_folding_and_escaping_survive_both_parsers(client, course):
    clinic = course.patient.clinic
    clinic.name = "Clínica Reumatología, Zürich; Süd \\ Nord — 東京分院"
    clinic.hold_text = "Do not take your next dose.\nCall us today; we answer 24/7, really."
    clinic.calendar_details = True
    clinic.save()
    feed = calendar_feed_issue(patient=course.patient)
    with at(2026, 4, 1, 12):
        infection_report(course=course, **infection_facts(course), serious=False, reporter="staff")
        body = fetch(client, feed).content
    lines = body.split(b"\r\n")
    assert lines[-1] == b"" and all(b"\n" not in line for line in lines)
    assert all(len(line) <= 75 for line in lines)
    assert all(line.decode("utf-8") is not None for line in lines)  # no split characters
    calendar, seen = parse_both(body)
    # Read raw by both parsers, so written without characters that need escaping.
    assert (
        seen["name"]
        == str(calendar["NAME"])
        == "Clínica Reumatología Zürich Süd Nord — 東京分院: my checks"
    )
    descriptions = [str(e["DESCRIPTION"]) for e in calendar.walk("VEVENT")]
    assert any(clinic.hold_text in d for d in descriptions)


def test_an_empty_feed_is_valid(client, patient):
    feed = calendar_feed_issue(patient=patient)
    calendar, seen = parse_both(fetch(client, feed).content)
    assert seen["events"] == [] and calendar.walk("VEVENT") == []


def test_rotating_makes_the_old_url_404(client, course, nurse):
    old = calendar_feed_issue(patient=course.patient)
    old_path = path_of(old)
    assert client.get(old_path).status_code == 200
    new = calendar_feed_issue(patient=course.patient, issued_by=nurse)
    assert client.get(old_path).status_code == 404
    assert client.get(path_of(new)).status_code == 200
    assert new.created_by == nurse
    calendar_feed_revoke(patient=course.patient)
    assert client.get(path_of(new)).status_code == 404
    assert CalendarFeed.objects.filter(patient=course.patient, revoked_at__isnull=True).count() == 0


def test_unknown_malformed_and_forged_tokens_are_404(client, course):
    feed = calendar_feed_issue(patient=course.patient)
    token = feed_token(feed)
    forged = token[:22] + ("A" if token[22] != "A" else "B") + token[23:]  # same key, wrong MAC
    for bad in ("x" * 64, token[:-1], token + "A", forged, "%" * 64, "not-a-token"):
        assert client.get(f"/feeds/{bad}/checks.ics").status_code == 404, bad


def test_a_copy_of_the_database_reveals_no_usable_url(client, course, settings):
    feed = calendar_feed_issue(patient=course.patient)
    token = feed_token(feed)
    stored = [str(v) for row in CalendarFeed.objects.values() for v in row.values()]
    stored += [str(row) for row in Message.objects.values()]
    mac = urlsafe_b64decode(token)[16:]
    for secret in (token, token[22:], mac.hex()):
        assert not any(secret in value for value in stored)
    old_key = settings.SECRET_KEY
    settings.SECRET_KEY = "a-new-key-after-rotation"
    assert client.get(path_of_token(token)).status_code == 404
    settings.SECRET_KEY_FALLBACKS = [old_key]  # Django's key rotation keeps URLs working
    assert client.get(path_of_token(token)).status_code == 200


def path_of_token(token: str) -> str:
    return reverse("calendar-feed", args=[token])


def test_wrong_tokens_are_rate_limited_per_address_but_live_feeds_still_served(
    client, course, settings
):
    settings.JAKMONITOR = {**settings.JAKMONITOR, "FEED_MISSES_ALLOWED": 3}
    feed = calendar_feed_issue(patient=course.patient)
    wrong = [f"/feeds/{n:064d}/checks.ics" for n in range(5)]
    answers = [client.get(url, REMOTE_ADDR="203.0.113.7").status_code for url in wrong]
    assert answers == [404, 404, 404, 429, 429]
    limited = client.get(wrong[0], REMOTE_ADDR="203.0.113.7")
    assert limited["Retry-After"] == "600"
    assert client.get(path_of(feed), REMOTE_ADDR="203.0.113.7").status_code == 200
    assert client.get(wrong[0], REMOTE_ADDR="198.51.100.9").status_code == 404  # another address


def test_issuing_emails_the_patient_both_links(client, course, smtp):
    with at(2026, 3, 3, 10):
        feed = calendar_feed_issue(patient=course.patient)
    assert send_all(datetime(2026, 3, 3, 10, 1, tzinfo=UTC)) == [MessageStatus.SENT]
    (mail,) = smtp.messages
    text = mail.get_payload()[0].get_payload(decode=True).decode()
    urls = feed_urls(feed)
    assert urls.webcal in text and urls.web in text
    assert urls.webcal.startswith("webcal://") and "contact your clinic" in text
    assert "List-Unsubscribe" not in mail  # asked for, not a subscription
    assert client.get(urls.web.split("8000", 1)[1]).status_code == 200


def test_a_link_replaced_before_sending_is_not_sent(course, smtp):
    with at(2026, 3, 3, 10):
        calendar_feed_issue(patient=course.patient)
        calendar_feed_issue(patient=course.patient)
    outcomes = send_all(datetime(2026, 3, 3, 10, 1, tzinfo=UTC))
    assert sorted(outcomes) == [MessageStatus.CANCELLED, MessageStatus.SENT]
    assert len(smtp.messages) == 1


def test_no_email_without_an_address(course):
    patient = course.patient
    patient.email = ""
    patient.save()
    calendar_feed_issue(patient=patient)
    assert not Message.objects.filter(kind=MessageKind.CALENDAR_LINK).exists()


def test_staff_feed_shows_own_clinics_checks_by_mrn_and_initials(client, course, nurse):
    other = PatientFactory(clinic=ClinicFactory(), given_name="Zed", family_name="Other")
    with at(2026, 3, 2, 15):
        course_start(
            patient=other,
            drug=Drug.objects.get(code="baricitinib"),
            dose_code="2mg-qd-us",
            indication="ra",
            start_date=START,
        )
    feed = calendar_feed_issue(user=nurse)
    with at(2026, 3, 10, 12):
        body = fetch(client, feed).content
    calendar, seen = parse_both(body)
    patient = course.patient
    assert seen["events"] and all(
        e["summary"].startswith(f"{patient.mrn} {patient.initials}:")
        or e["summary"].startswith(f"Overdue: {patient.mrn}")
        for e in seen["events"]
    )
    assert other.mrn.encode() not in body and b"tofacitinib" not in body.lower()
    due = {date.fromisoformat(e["start"]) for e in seen["events"]}
    assert max(due) <= date(2026, 3, 10) + timedelta(days=90)
    patient_uids = {str(u) for u in course.checks.values_list("uuid", flat=True)}
    assert not patient_uids & {e["uid"] for e in seen["events"]}  # its own UIDs
    assert all("/admin/clinics/monitoringcheck/" in str(e["URL"]) for e in calendar.walk("VEVENT"))


def test_staff_feed_follows_patient_changes_and_inactive_users(client, course, nurse):
    feed = calendar_feed_issue(user=nurse)
    first = fetch(client, feed)
    patient = course.patient
    patient.mrn = "NEW-MRN-1"
    patient.save()
    again = client.get(path_of(feed), headers={"If-None-Match": first["ETag"]})
    assert again.status_code == 200 and b"NEW-MRN-1" in again.content
    nurse.is_active = False
    nurse.save()
    assert client.get(path_of(feed)).status_code == 404


def test_demo_feeds_import_cleanly_into_ical_js(client, rules_loaded, capsys):
    with at(2026, 3, 2, 9):
        call_command("demo_setup", url="http://127.0.0.1:8000/admin/")
    printed = capsys.readouterr().out
    urls = [w for w in printed.split() if w.startswith("http") and w.endswith("/checks.ics")]
    assert len(urls) == 2, printed  # the staff feed and one patient's feed
    bodies = []
    with at(2026, 3, 2, 9, 5):
        for url in urls:
            response = client.get(url.split("8000", 1)[1])
            assert response.status_code == 200
            bodies.append(response.content)
    staff, patient = parse_ical_js(*bodies)
    assert staff["events"] and patient["events"]
    assert any(e["status"] == "CANCELLED" for e in staff["events"])  # the paused demo course
    for body in bodies:
        parse_icalendar(body)


def test_a_change_committed_out_of_order_still_changes_the_version(client, course):
    """A check stamped earlier than the last change but committed later (a long re-plan)."""
    feed = calendar_feed_issue(patient=course.patient)
    with at(2026, 3, 10, 12):
        first = fetch(client, feed)
    check = course.checks.filter(status=CheckStatus.SCHEDULED).first()
    MonitoringCheck.objects.filter(pk=check.pk).update(
        status=CheckStatus.CANCELLED,
        sequence=F("sequence") + 1,
        updated_at=datetime(2026, 3, 1, tzinfo=UTC),
    )
    with at(2026, 3, 10, 12, 5):
        again = client.get(path_of(feed), headers={"If-None-Match": first["ETag"]})
    assert again.status_code == 200
    assert events_by_uid(again.content)[str(check.uuid)]["status"] == "CANCELLED"


def test_a_new_rule_set_changes_the_version(client, course, tmp_path):
    from clinics.services.seeds import rules_load
    from tests.support.seed_edits import copy_seeds, edit_yaml

    clinic = course.patient.clinic
    clinic.calendar_details = True
    clinic.save()
    feed = calendar_feed_issue(patient=course.patient)
    first = fetch(client, feed)
    seeds = copy_seeds(tmp_path)
    edit_yaml(
        seeds / "drugs" / "tofacitinib.yaml", lambda d: d["drug"].update(name="Tofacitinib citrate")
    )
    rules_load(seed_dir=seeds)
    again = client.get(path_of(feed), headers={"If-None-Match": first["ETag"]})
    assert again.status_code == 200 and b"(Tofacitinib citrate)" in again.content


def test_staff_feed_follows_clinic_membership_and_staff_status(client, course, nurse):
    feed = calendar_feed_issue(user=nurse)
    with at(2026, 3, 10, 12):
        first = fetch(client, feed)
    other = PatientFactory(clinic=ClinicFactory(), mrn="OTHER-1")
    with at(2026, 3, 2, 15):
        course_start(
            patient=other,
            drug=Drug.objects.get(code="baricitinib"),
            dose_code="2mg-qd-us",
            indication="ra",
            start_date=START,
        )
    staff_member_add(
        clinic=other.clinic,
        username="nurse",
        email="nurse@example.org",
        role="viewer",
        password="a-long-test-password",
    )
    with at(2026, 3, 10, 12, 1):
        joined = client.get(path_of(feed), headers={"If-Modified-Since": first["Last-Modified"]})
    assert joined.status_code == 200 and b"OTHER-1" in joined.content
    nurse.memberships.filter(clinic=other.clinic).delete()
    with at(2026, 3, 10, 12, 2):
        left = client.get(path_of(feed), headers={"If-Modified-Since": joined["Last-Modified"]})
    assert left.status_code == 200 and b"OTHER-1" not in left.content  # never a stale 304
    nurse.is_staff = False
    nurse.save()
    assert client.get(path_of(feed)).status_code == 404

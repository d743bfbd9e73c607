"""The patient page and its actions: report an infection, resolve it, resume, stop; each through
the services, allowed by role in the patient's clinic, and 404 for another clinic's course."""

import re
from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.formats import date_format

from clinics.core.vocab import CourseStatus, MessageKind
from clinics.models import Drug, Finding, Message, TherapyCourse
from clinics.services.courses import course_start
from clinics.services.results import lab_result_record
from clinics.services.staff import staff_member_add
from tests.support.factories import ClinicFactory, PatientFactory

PASSWORD = "a-long-test-password"


def as_role(client, clinic, role, username):
    staff_member_add(
        clinic=clinic,
        username=username,
        email=f"{username}@example.org",
        role=role,
        password=PASSWORD,
    )
    client.logout()
    assert client.login(username=username, password=PASSWORD)


def seen(course):
    """The course's version as a page opened now would carry it."""
    return TherapyCourse.objects.get(pk=course.pk).version


def action(name, obj):
    return reverse("admin:clinics_patient_action", args=[name, obj.uuid])


@pytest.fixture
def course(rules_loaded):
    patient = PatientFactory(clinic=ClinicFactory(name="Alpha Clinic"))
    return course_start(
        patient=patient,
        drug=Drug.objects.get(code="baricitinib"),
        dose_code="2mg-qd-us",
        indication="ra",
        start_date=patient.clinic.today() - timedelta(days=10),
    ).course


def test_patient_page_shows_courses_checks_with_why_results_and_messages(client, course):
    as_role(client, course.patient.clinic, "viewer", "viv")
    page = client.get(
        reverse("admin:clinics_patient_change", args=[course.patient.pk])
    ).content.decode()
    assert "Baricitinib" in page and "Open checks" in page
    check = course.checks.filter(status="scheduled").first()
    assert check.why.splitlines()[0][:40] in page  # the rule and source behind each check


def test_report_infection_then_resolve_and_resume_by_role(client, course):
    clinic = course.patient.clinic
    staff_member_add(
        clinic=clinic,
        username="nurse",
        email="nurse@example.org",
        role="clinician",
        password=PASSWORD,
    )
    as_role(client, clinic, "coordinator", "coco")
    today = course.patient.clinic.today()
    facts = {"kind": "herpes_zoster", "onset_on": today.isoformat(), "serious": "on"}
    url = action("report-infection", course)
    blank = client.post(url, {"_preview": "1"}).context["form"].errors
    assert set(blank) == {"kind", "onset_on"}  # asked for, never assumed
    late = {**facts, "onset_on": (today + timedelta(days=1)).isoformat(), "_preview": "1"}
    assert "onset_on" in client.post(url, late).context["form"].errors  # the service's check
    first = client.post(url, {**facts, "_preview": "1"})
    shown = first.content.decode()
    assert "What happens when you confirm" in shown
    open_checks = course.checks.filter(status__in=["scheduled", "overdue"]).count()
    assert f"its {open_checks} open checks go on hold" in shown
    assert "2 staff members of the clinic are alerted" in shown  # the nurse and coco
    course.refresh_from_db()
    assert course.status == CourseStatus.ACTIVE  # nothing paused before the confirmation
    fingerprint = re.search(r'name="_previewed" value="(\w+)"', shown).group(1)
    response = client.post(url, {**facts, "_confirm": "1", "_previewed": fingerprint})
    assert response.status_code == 302
    course.refresh_from_db()
    assert course.status == CourseStatus.PAUSED
    assert Message.objects.filter(kind=MessageKind.PAUSE_ALERT_STAFF).exists()
    report = course.infections.get()
    assert report.reported_by.username == "coco"
    assert (report.kind, report.onset_on, report.serious) == ("herpes_zoster", today, True)
    assert str(report) == f"Shingles (herpes zoster), serious since {today} (reported {today})"
    resolved = {"outcome": "recovered"}
    assert client.post(action("resolve-infection", report), resolved).status_code == 403
    assert (
        client.post(
            action("resume", course),
            {"version": seen(course), "resumed_on": course.patient.clinic.today()},
        ).status_code
        == 403
    )
    as_role(client, clinic, "clinician", "doc")
    refused = client.post(
        action("resume", course),
        {"version": seen(course), "resumed_on": course.patient.clinic.today().isoformat()},
    )
    assert b"Resolve the reported infection" in refused.content  # the service's reason, shown
    unsaid = client.post(action("resolve-infection", report), {"outcome": "other"})
    assert "note" in unsaid.context["form"].errors
    assert client.post(action("resolve-infection", report), resolved).status_code == 302
    report.refresh_from_db()
    assert report.outcome == "recovered" and report.resolved_at is not None
    assert (
        client.post(
            action("resume", course),
            {"version": seen(course), "resumed_on": course.patient.clinic.today().isoformat()},
        ).status_code
        == 302
    )
    course.refresh_from_db()
    assert course.status == CourseStatus.ACTIVE


def test_stop_errors_name_the_field_and_change_nothing(client, course):
    as_role(client, course.patient.clinic, "clinician", "doc")
    future = (course.patient.clinic.today() + timedelta(days=3)).isoformat()
    page = client.post(
        action("stop", course),
        {"version": seen(course), "stop_reason": "patient_choice", "stopped_on": future},
    )
    assert page.status_code == 200 and b"cannot be stopped in the future" in page.content
    assert b'class="form-row errors"' in page.content
    course.refresh_from_db()
    assert course.status == CourseStatus.ACTIVE
    ok = client.post(
        action("stop", course),
        {
            "version": seen(course),
            "stop_reason": "patient_choice",
            "stopped_on": course.patient.clinic.today(),
        },
    )
    assert ok.status_code == 302
    course.refresh_from_db()
    assert course.status == CourseStatus.STOPPED


def test_another_clinics_course_is_404_and_viewers_get_403(client, course):
    as_role(client, ClinicFactory(name="Other"), "clinician", "stranger")
    assert client.get(action("report-infection", course)).status_code == 404
    assert (
        client.post(
            action("stop", course), {"version": seen(course), "stop_reason": "other"}
        ).status_code
        == 404
    )
    as_role(client, course.patient.clinic, "viewer", "viv")
    assert client.post(action("report-infection", course), {"serious": "on"}).status_code == 403
    course.refresh_from_db()
    assert course.status == CourseStatus.ACTIVE


def test_patient_page_queries_do_not_grow_with_history(client, course):
    as_role(client, course.patient.clinic, "viewer", "viv")
    url = reverse("admin:clinics_patient_change", args=[course.patient.pk])
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    for day in range(60):
        lab_result_record(
            course=course,
            analyte="hb",
            value="13.0",
            unit="g/dL",
            collected_on=course.patient.clinic.today() - timedelta(days=day % 10 + 1),
        )
    with CaptureQueriesContext(connection) as many:
        assert client.get(url).status_code == 200
    assert len(many) == len(few)


def start_url(patient):
    return reverse("admin:clinics_patient_action", args=["start-course", patient.uuid])


def test_start_course_previews_plan_advice_and_thresholds_before_saving(client, rules_loaded):
    patient = PatientFactory(clinic=ClinicFactory(), date_of_birth=date(1950, 1, 1))
    as_role(client, patient.clinic, "clinician", "doc")
    drug = Drug.objects.get(code="baricitinib")
    data = {
        "drug": drug.pk,
        "dose": "baricitinib:2mg-qd-us",
        "indication": "ra",
        "start_date": patient.clinic.today().isoformat(),
        "renal_value": "45",
        "renal_measure": "egfr",
    }
    preview = client.post(start_url(patient), data)
    page = preview.content.decode()
    assert preview.status_code == 200 and not patient.courses.exists()  # nothing saved yet
    assert "Checks that will be planned" in page and "Full blood count" in page
    assert "eGFR 30 to below 60" in page  # the renal advice, with its rule
    as_crcl = client.post(start_url(patient), {**data, "renal_measure": "crcl"}).content.decode()
    assert "renal advice uses eGFR, mL/min/1.73m²: enter it" in as_crcl  # not silence
    assert "No dose advice applies" not in as_crcl
    assert "baricitinib.alc.no-start" in page and "drugs.com" in page  # do-not-start rules
    fingerprint = re.search(r'name="_previewed" value="(\w+)"', page).group(1)
    changed = client.post(
        start_url(patient),
        {**data, "renal_value": "20", "_confirm": "1", "_previewed": fingerprint},
    )
    assert changed.status_code == 200 and not patient.courses.exists()  # changed: preview again
    started = client.post(start_url(patient), {**data, "_confirm": "1", "_previewed": fingerprint})
    assert started.status_code == 302
    course = patient.courses.get()
    assert course.drug == drug and course.created_by.username == "doc" and course.checks.exists()
    shown = [str(m) for m in client.get(started.url).context["messages"]]
    assert any(m.startswith("Course started") for m in shown)
    assert any("Dose advice" in m and "eGFR 30 to below 60" in m for m in shown)


def test_start_course_asks_for_hepatic_interaction_and_condition_facts(client, rules_loaded):
    clinic = ClinicFactory(jurisdiction="US")
    patient = PatientFactory(
        clinic=clinic,
        sex_at_birth="male",
        date_of_birth=date(1966, 1, 1),
        weight_kg=70,
        weight_on=clinic.today(),
    )
    as_role(client, clinic, "clinician", "doc")
    data = {
        "drug": Drug.objects.get(code="tofacitinib").pk,
        "dose": "tofacitinib:5mg-bid",
        "indication": "ra",
        "start_date": clinic.today().isoformat(),
    }
    asked = client.post(start_url(patient), data).content.decode()
    assert "Hepatic impairment (Child-Pugh class) not recorded" in asked
    assert "Interacting medicines not recorded" in asked
    both = client.post(
        start_url(patient), {**data, "interacting": ["none", "strong_cyp3a4_inhibitor"]}
    )
    assert "interacting" in both.context["form"].errors
    answered = {
        **data,
        "child_pugh": "A",
        "interacting": ["none"],
        "conditions": ["none"],
        "creatinine": "1.6",
        "creatinine_unit": "mg/dL",
    }
    page = client.post(start_url(patient), answered).content.decode()
    assert "not recorded" not in page
    assert "Moderate renal impairment (CLcr 30-50 mL/min) - 5 mg once daily" in page
    assert "Creatinine clearance 48.6 mL/min estimated by Cockcroft-Gault" in page


def test_start_course_for_a_patient_already_on_the_drug_previews_catch_ups(client, rules_loaded):
    patient = PatientFactory(clinic=ClinicFactory(), date_of_birth=date(1950, 1, 1))
    as_role(client, patient.clinic, "clinician", "doc")
    today = patient.clinic.today()
    data = {
        "drug": Drug.objects.get(code="tofacitinib").pk,
        "dose": "tofacitinib:5mg-bid",
        "indication": "ra",
        "start_date": (today - timedelta(days=210)).isoformat(),
        "last_done_cbc": (today + timedelta(days=2)).isoformat(),
    }
    wrong = client.post(start_url(patient), data)
    assert "cannot be in the future" in str(wrong.context["form"].errors["last_done_cbc"])
    data["last_done_cbc"] = (today - timedelta(days=20)).isoformat()
    preview = client.post(start_url(patient), data)
    page = preview.content.decode()
    assert "Already on the drug: what is caught up" in page
    assert "One catch-up check due today" in page and "Liver function" in page
    assert f"Recorded as done elsewhere on {date_format(today - timedelta(days=20))}" in page
    fingerprint = re.search(r'name="_previewed" value="(\w+)"', page).group(1)
    started = client.post(start_url(patient), {**data, "_confirm": "1", "_previewed": fingerprint})
    assert started.status_code == 302
    shown = [str(m) for m in client.get(started.url).context["messages"]]
    assert any("catch-up check" in m and "due-now list" in m for m in shown)
    course = patient.courses.get()
    assert course.checks.filter(origin="catch_up", kind="liver", due_date=today).exists()


def test_start_course_errors_name_the_field(client, rules_loaded):
    patient = PatientFactory(clinic=ClinicFactory())
    as_role(client, patient.clinic, "clinician", "doc")
    drug = Drug.objects.get(code="baricitinib")
    wrong = client.post(
        start_url(patient),
        {
            "drug": drug.pk,
            "dose": "tofacitinib:5mg-bid",
            "indication": "ra",
            "start_date": "2026-01-01",
        },
    )
    assert "not a Baricitinib dose" in wrong.content.decode()
    aa_only = client.post(
        start_url(patient),
        {
            "drug": drug.pk,
            "dose": "baricitinib:2mg-qd-us",
            "indication": "ad",
            "start_date": "2026-01-01",
        },
    )
    errors = aa_only.context["form"].errors
    assert "not a labelled dose for Atopic dermatitis" in errors["dose"][0]
    assert not patient.courses.exists()


def test_recent_result_below_do_not_start_needs_acknowledgement(client, course):
    patient = course.patient
    lab_result_record(
        course=course,
        analyte="alc",
        value="400",
        unit="cells/mm3",
        collected_on=patient.clinic.today() - timedelta(days=3),
    )
    as_role(client, patient.clinic, "clinician", "doc")
    client.post(
        action("stop", course),
        {
            "version": seen(course),
            "stop_reason": "adverse_event",
            "stopped_on": patient.clinic.today(),
        },
    )
    data = {
        "drug": course.drug.pk,
        "dose": "baricitinib:2mg-qd-us",
        "indication": "ra",
        "start_date": patient.clinic.today().isoformat(),
    }
    page = client.post(start_url(patient), data).content.decode()
    assert "reaches a do-not-start threshold" in page and "lymphocyte count is below 500" in page
    fingerprint = re.search(r'name="_previewed" value="(\w+)"', page).group(1)
    refused = client.post(start_url(patient), {**data, "_confirm": "1", "_previewed": fingerprint})
    assert "acknowledge_do_not_start" in refused.context["form"].errors
    assert patient.courses.count() == 1
    ok = client.post(
        start_url(patient),
        {**data, "_confirm": "1", "_previewed": fingerprint, "acknowledge_do_not_start": "on"},
    )
    assert ok.status_code == 302
    new = patient.courses.exclude(pk=course.pk).get()
    reason = new.history.earliest().history_change_reason
    assert reason == "Prescriber acknowledged do-not-start: baricitinib.alc.no-start"


def test_complete_check_shows_the_threshold_outcome_with_rule_and_source(client, course):
    as_role(client, course.patient.clinic, "coordinator", "coco")
    check = course.checks.filter(kind="cbc", status__in=["scheduled", "overdue"]).first()
    url = action("complete-check", check)
    today = course.patient.clinic.today().isoformat()
    late = {"completed_on": today, "confirm_outside_window": "on", "reason_alc": "not_done"}
    bad = client.post(
        url,
        {**late, "value_anc": "400", "unit_anc": "furlongs", "value_hb": "13", "unit_hb": "g/dL"},
    )
    assert "unit_anc" in bad.context["form"].errors  # the service's unit error, on its field
    missing = client.post(url, {"completed_on": today, "value_hb": "12"})
    assert "unit_hb" in missing.context["form"].errors
    unaccounted = client.post(url, {"completed_on": today}).context["form"].errors
    assert "outside this check's window" in unaccounted["completed_on"][0]
    assert "Neutrophils (ANC), Lymphocytes (ALC), Haemoglobin" in unaccounted["__all__"][0]
    check.refresh_from_db()
    assert check.status != "done" and not check.results.exists()  # nothing half done
    done = client.post(
        url,
        {
            **late,
            "value_anc": "400",
            "unit_anc": "cells/mm3",
            "value_hb": "13",
            "unit_hb": "g/dL",
        },
    )
    assert done.status_code == 302
    check.refresh_from_db()
    assert check.status == "done" and check.results.count() == 2
    assert check.results_missing == {"alc": "not_done"} and check.done_outside_window
    shown = [str(m) for m in client.get(done.url).context["messages"]]
    anc = next(m for m in shown if m.startswith("Neutrophils (ANC) 400"))
    assert "Interrupt" in anc and "baricitinib.anc.interrupt" in anc and "drugs.com" in anc
    assert any(m.startswith("Haemoglobin 13 g/dL: no threshold") for m in shown)
    alert = Message.objects.get(kind=MessageKind.RESULT_ALERT_STAFF)
    (anc_row,) = alert.context["results"]
    assert anc_row["reading"] == "400 cells/mm3"  # as written, not 4E+2
    finding = Finding.objects.get()
    assert alert.context["finding_url"].endswith(f"/admin/clinics/finding/{finding.pk}/change/")
    page = client.get(f"/admin/clinics/finding/{finding.pk}/change/").content.decode()
    assert "Record a decision" in page and "anc 400 cells/mm3" in page
    decide = action("decide-finding", finding)
    assert (
        client.post(decide, {"decision": "repeat", "version": finding.version}).status_code == 403
    )
    as_role(client, course.patient.clinic, "clinician", "cleo")
    stale = client.post(decide, {"decision": "repeat", "version": finding.version - 1})
    assert "changed by someone else" in stale.content.decode()
    assert (
        client.post(decide, {"decision": "repeat", "version": finding.version}).status_code == 302
    )
    finding.refresh_from_db()
    assert finding.status == "repeat_ordered" and finding.decided_by.username == "cleo"
    assert finding.repeat_check.kind == "cbc" and finding.repeat_check.due_date.isoformat() == today


def test_send_reminder_queues_one_and_refuses_what_cannot_go(client, course):
    as_role(client, course.patient.clinic, "coordinator", "coco")
    check = course.checks.filter(status__in=["scheduled", "overdue"]).first()
    assert client.post(action("send-reminder", check)).status_code == 302
    reminder = Message.objects.get(kind=MessageKind.REMINDER)
    assert check in reminder.checks.all() and reminder.recipient == course.patient.email
    again = client.post(action("send-reminder", check))
    assert "already waiting" in again.content.decode()
    assert Message.objects.filter(kind=MessageKind.REMINDER).count() == 1


def test_pause_change_dose_and_calendar_link_by_role(client, course):
    patient = course.patient
    as_role(client, patient.clinic, "coordinator", "coco")
    assert (
        client.post(
            action("pause", course), {"version": seen(course), "reason": "clinician"}
        ).status_code
        == 403
    )
    assert client.post(action("calendar-link", patient)).status_code == 302
    assert patient.calendar_feeds.filter(revoked_at__isnull=True).exists()
    as_role(client, patient.clinic, "clinician", "doc")
    today = patient.clinic.today().isoformat()
    assert (
        client.post(
            action("pause", course),
            {"version": seen(course), "reason": "clinician", "paused_on": today},
        ).status_code
        == 302
    )
    course.refresh_from_db()
    assert course.status == CourseStatus.PAUSED
    assert not course.checks.filter(status__in=["scheduled", "overdue"]).exists()


def test_page_offers_only_the_actions_the_role_allows(client, course):
    url = reverse("admin:clinics_patient_change", args=[course.patient.pk])
    as_role(client, course.patient.clinic, "viewer", "viv")
    page = client.get(url).content.decode()
    assert "Report an infection" not in page and "Record as done" not in page
    as_role(client, course.patient.clinic, "coordinator", "coco")
    page = client.get(url).content.decode()
    assert "Report an infection" in page and "Record as done" in page and ">Stop<" not in page
    as_role(client, course.patient.clinic, "clinician", "doc")
    assert ">Stop<" in client.get(url).content.decode()


def test_sample_taken_then_results_from_the_patient_page(client, course):
    as_role(client, course.patient.clinic, "coordinator", "coco")
    page_url = reverse("admin:clinics_patient_change", args=[course.patient.pk])
    check = course.checks.get(plan_key="cbc/baseline")  # its window closed at the start
    assert action("sample-taken", check) in client.get(page_url).content.decode()
    today = course.patient.clinic.today()
    bad = client.post(action("sample-taken", check), {"sampled_on": today + timedelta(days=1)})
    assert "sampled_on" in bad.context["form"].errors
    yesterday = today - timedelta(days=1)
    taken = client.post(action("sample-taken", check), {"sampled_on": yesterday.isoformat()})
    assert taken.status_code == 302
    check.refresh_from_db()
    assert (check.status, check.sampled_on) == ("pending", yesterday)
    page = client.get(page_url).content.decode()
    assert "Results pending (sample taken" in page and "Record the results" in page
    assert action("sample-lost", check) in page and action("sample-taken", check) not in page
    form = client.get(action("complete-check", check)).context["form"]
    assert form.initial["completed_on"] == yesterday  # the sample's day, not today
    listed = client.get("/admin/clinics/resultspendingcheck/").content.decode()
    assert course.patient.mrn in listed
    done = client.post(
        action("complete-check", check),
        {
            "completed_on": yesterday.isoformat(),
            "confirm_outside_window": "on",
            "value_hb": "13",
            "unit_hb": "g/dL",
            "reason_anc": "sample_lost",
            "reason_alc": "sample_lost",
        },
    )
    assert done.status_code == 302
    check.refresh_from_db()
    assert check.status == "done" and check.results_missing == {
        "anc": "sample_lost",
        "alc": "sample_lost",
    }
    assert (
        course.patient.mrn not in client.get("/admin/clinics/resultspendingcheck/").content.decode()
    )


def change_form_data(client, url):
    """What the browser posts back from the patient change form as it was loaded."""
    form = client.get(url).context["adminform"].form
    data = {name: form[name].value() for name in form.fields}
    return {
        k: "on" if v is True else "" if v is None else v for k, v in data.items() if v is not False
    }


def test_an_older_tab_cannot_silently_revert_a_newer_email(client, course):
    """Two tabs open on one patient: the newer save wins; the older tab's save is refused with
    the stored values shown, and saving again from that page is then a deliberate choice."""
    patient = course.patient
    as_role(client, patient.clinic, "clinician", "doc")
    url = reverse("admin:clinics_patient_change", args=[patient.pk])
    older, newer = change_form_data(client, url), change_form_data(client, url)
    assert client.post(url, {**newer, "email": "new@example.org"}).status_code == 302
    refused = client.post(url, {**older, "email": "old@example.org"})
    assert refused.status_code == 200
    errors = refused.context["adminform"].form.non_field_errors()
    assert "Someone else changed this patient" in errors[0]
    assert "Email: new@example.org" in errors[0]  # the stored value, next to the page's
    patient.refresh_from_db()
    assert (patient.email, patient.version) == ("new@example.org", 2)
    again = {
        **older,
        "email": "old@example.org",
        "seen_version": refused.context["adminform"].form["seen_version"].value(),
    }
    assert client.post(url, again).status_code == 302
    patient.refresh_from_db()
    assert (patient.email, patient.version) == ("old@example.org", 3)


def test_a_course_action_from_an_older_page_is_refused(client, course):
    """A nurse opens "Change the dose" and, before she saves, a colleague pauses the course:
    her change is refused with the reason, and nothing is written."""
    as_role(client, course.patient.clinic, "clinician", "doc")
    opened = seen(course)
    today = course.patient.clinic.today()
    paused = client.post(
        action("pause", course), {"version": opened, "reason": "clinician", "paused_on": today}
    )
    assert paused.status_code == 302
    stale = client.post(
        action("stop", course),
        {"version": opened, "stop_reason": "patient_choice", "stopped_on": today},
    )
    assert stale.status_code == 200
    assert b"changed by someone else" in stale.content
    course.refresh_from_db()
    assert (course.status, course.version) == (CourseStatus.PAUSED, opened + 1)


def test_a_screening_check_is_recorded_by_its_reading(client, course):
    as_role(client, course.patient.clinic, "coordinator", "coco")
    check = course.checks.get(kind="tb")
    url = action("complete-check", check)
    form = client.get(url).content.decode()
    assert 'name="reading_igra"' in form and "number, if the lab gives one" in form
    on = {"completed_on": check.window_start.isoformat(), "confirm_outside_window": "on"}
    unread = client.post(url, {**on, "value_igra": "0.4", "unit_igra": "IU/mL"})
    assert "reading_igra" in unread.context["form"].errors  # the service's error, on its field
    done = client.post(url, {**on, "reading_igra": "positive"})
    assert done.status_code == 302
    (result,) = check.results.all()
    assert (result.interpretation, result.value, result.outcome_action) == (
        "positive",
        None,
        "do_not_start",
    )
    shown = [str(m) for m in client.get(done.url).context["messages"]]
    assert any(m.startswith("TB interferon-gamma release assay positive:") for m in shown)


def test_a_ruxolitinib_course_can_be_marked_dose_stable_from_the_patient_page(client, rules_loaded):
    clinic = ClinicFactory(jurisdiction="US")
    patient = PatientFactory(clinic=clinic)
    course = course_start(
        patient=patient,
        drug=Drug.objects.get(code="ruxolitinib"),
        dose_code="10mg-bid",
        indication="pv",
        start_date=clinic.today(),
    ).course
    as_role(client, clinic, "clinician", "doc")
    page = client.get(f"/admin/clinics/patient/{patient.pk}/change/").content.decode()
    assert "Mark dose stable" in page
    done = client.post(
        action("dose-stable", course),
        {"version": seen(course), "stable_on": clinic.today().isoformat()},
    )
    assert done.status_code == 302
    course.refresh_from_db()
    assert course.dose_stable_on == clinic.today()
    page = client.get(f"/admin/clinics/patient/{patient.pk}/change/").content.decode()
    assert "Mark dose stable" not in page

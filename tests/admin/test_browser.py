"""The staff web UI in a real browser: Debian's Chromium, headless, driven by Playwright against
the live server. A clinician adds a patient, starts a baricitinib course from its preview,
reports an infection and sees the course paused and the alerts queued; a second clinic's staff
member cannot reach that patient by list, search or URL. An interrupting result opens a finding
that a repeat test ordered from it closes. Screenshots go to var/screenshots/."""

from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connections
from playwright.sync_api import Page, expect, sync_playwright

from clinics.core.vocab import CheckKind, CheckOrigin, FindingStatus
from clinics.demo import UNREMARKABLE_VALUES
from clinics.models import Drug, Finding, Message, MonitoringCheck, Patient
from clinics.selectors.worklists import checks_due_now
from clinics.services.courses import course_start
from clinics.services.staff import staff_member_add
from tests.support.factories import ClinicFactory, PatientFactory

CHROMIUM = "/usr/bin/chromium"  # Debian's package (bin/test installs it); never a downloaded one
SCREENSHOTS = Path(settings.BASE_DIR) / "var" / "screenshots"
PASSWORD = "a-long-test-password"
# As root and on a closed network: no sandbox, no background connections to Google's hosts.
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-sync",
    "--disable-background-networking",
    "--disable-component-update",
]


@pytest.fixture
def page(live_server, monkeypatch):
    # Playwright's sync API keeps an event loop in this thread; the ORM calls the test makes
    # between browser steps are plain synchronous ones.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    assert Path(CHROMIUM).exists(), f"{CHROMIUM} is missing: apt-get install chromium"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        context = browser.new_context(
            base_url=live_server.url, viewport={"width": 1400, "height": 1000}
        )
        page = context.new_page()
        page.set_default_timeout(15_000)
        yield page
        # ORM calls made while Playwright's loop is set use connections of their own (Django
        # keeps them per async context): close them, or the test database cannot be dropped.
        connections.close_all()
        browser.close()


def log_in(page: Page, username: str) -> None:
    page.context.clear_cookies()
    page.goto("/admin/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    expect(page.locator("#user-tools")).to_contain_text(username)


def test_clinician_enrols_starts_baricitinib_reports_infection_and_other_clinic_cannot_see(
    page, rules_loaded
):
    alpha, other = ClinicFactory(name="Alpha Rheumatology"), ClinicFactory(name="Beta Dermatology")
    staff_member_add(
        clinic=alpha, username="doc", email="doc@example.org", role="clinician", password=PASSWORD
    )
    staff_member_add(
        clinic=other,
        username="stranger",
        email="s@example.org",
        role="clinician",
        password=PASSWORD,
    )
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    log_in(page, "doc")
    expect(page.locator("#dashboard")).to_contain_text("Alpha Rheumatology")
    expect(page.locator("#dashboard")).not_to_contain_text("Beta Dermatology")
    page.screenshot(path=SCREENSHOTS / "dashboard.png", full_page=True)

    page.goto("/admin/clinics/patient/add/")
    page.select_option("#id_clinic", label="Alpha Rheumatology")
    page.fill("#id_mrn", "BR-2041")
    page.fill("#id_given_name", "Ada")
    page.fill("#id_family_name", "Lovelace")
    page.fill("#id_date_of_birth", "1961-04-12")
    page.select_option("#id_sex_at_birth", "female")
    page.fill("#id_email", "ada@example.org")
    page.check("#id_reminder_consent")
    page.click("input[name=_continue]")
    expect(page.locator(".messagelist")).to_contain_text("was added successfully")
    patient_url = page.url

    page.click("#start-course")
    page.select_option("#id_drug", label="Baricitinib")
    page.select_option("#id_dose", label="2 mg once daily")
    page.select_option("#id_indication", "ra")
    page.fill("#id_start_date", alpha.today().isoformat())  # the clinic's date, not the server's
    page.click("input[name=_preview]")
    expect(page.locator("#preview-checks")).to_contain_text("Full blood count")
    expect(page.locator("#preview-do-not-start")).to_contain_text("baricitinib.anc.no-start")
    assert not Patient.objects.get(mrn="BR-2041").courses.exists()  # a preview saves nothing
    page.click("input[name=_confirm]")
    expect(page.locator(".messagelist")).to_contain_text("Course started")
    expect(page.locator("#patient-courses .course-status")).to_have_text("Active")
    expect(page.locator("#patient-checks")).to_contain_text("Full blood count")
    expect(page.locator("#patient-checks")).to_contain_text("baricitinib.")  # the why, with rule
    page.screenshot(path=SCREENSHOTS / "patient.png", full_page=True)

    page.get_by_role("link", name="Report an infection").click()
    page.select_option("#id_kind", "respiratory")
    page.fill("#id_onset_on", alpha.today().isoformat())
    page.check("#id_serious")
    page.fill("#id_description", "Fever and productive cough for three days")
    page.click("input[name=_preview]")
    expect(page.locator("#infection-preview")).to_contain_text("The course is paused today")
    page.screenshot(path=SCREENSHOTS / "infection_confirm.png", full_page=True)
    page.click("input[name=_confirm]")
    expect(page.locator(".messagelist")).to_contain_text("the course is paused")
    expect(page.locator("#patient-courses .course-status")).to_have_text("Paused")
    expect(page.locator("#patient-messages .message-pause_alert_staff")).to_have_count(1)
    expect(page.locator("#patient-messages .message-pause_alert_patient")).to_have_count(1)
    expect(page.locator("#patient-checks")).to_contain_text("On hold")
    assert Message.objects.filter(kind="pause_alert_patient", recipient="ada@example.org").exists()

    log_in(page, "stranger")
    page.goto("/admin/clinics/patient/")
    expect(page.locator("#changelist")).not_to_contain_text("BR-2041")
    page.goto("/admin/clinics/patient/?q=BR-2041")
    expect(page.locator("#changelist")).not_to_contain_text("BR-2041")
    assert page.goto(patient_url).status == 404
    course = Patient.objects.get(mrn="BR-2041").courses.get()
    action = f"/admin/clinics/patient/action/resume/{course.uuid}/"
    assert page.goto(action).status == 404


def test_interrupt_result_opens_finding_repeat_ordered_from_it_closes_the_loop(page, rules_loaded):
    """A tofacitinib course on its fourth week: the blood count due now has a neutrophil count
    that interrupts; the finding is listed until the clinician orders a repeat from it; the
    repeat is due now; its normal result closes the finding."""
    clinic = ClinicFactory(name="Alpha Rheumatology")
    staff_member_add(
        clinic=clinic, username="doc", email="doc@example.org", role="clinician", password=PASSWORD
    )
    patient = PatientFactory(clinic=clinic, mrn="TF-0412", family_name="TF-0412")
    start = clinic.today() - timedelta(weeks=4)
    screened = start - timedelta(days=3)  # baseline screening done before the start
    course = course_start(
        patient=patient,
        drug=Drug.objects.get(code="tofacitinib"),
        dose_code="5mg-bid",
        indication="ra",
        start_date=start,
        done_elsewhere=dict.fromkeys(CheckKind.values(), screened),
    ).course
    due = checks_due_now().get(course=course, kind="cbc")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    log_in(page, "doc")
    page.goto("/admin/clinics/duenowcheck/")
    expect(page.locator("#result_list")).to_contain_text("TF-0412")
    page.goto(f"/admin/clinics/patient/{patient.pk}/change/")
    expect(page.locator("#care-summary")).to_contain_text("Full blood count")
    record_check(page, due, anc="0.8")
    expect(page.locator(".messagelist")).to_contain_text("Interrupt")
    expect(page.locator(".messagelist")).to_contain_text("staff are being alerted")

    page.goto("/admin/clinics/openfinding/")
    expect(page.locator("#result_list")).to_contain_text("TF-0412")
    expect(page.locator("#result_list")).to_contain_text("Interrupt")
    page.screenshot(path=SCREENSHOTS / "findings.png", full_page=True)
    page.locator("#result_list").get_by_role("link", name="Interrupt").click()
    page.get_by_role("link", name="Record a decision").click()
    page.check("input[name=decision][value=repeat]")
    page.click("input[type=submit].default")
    expect(page.locator(".messagelist")).to_contain_text("Repeat test ordered: due now")
    finding = Finding.objects.get(course=course)
    assert finding.status == FindingStatus.REPEAT_ORDERED
    assert finding.decided_by.username == "doc"

    page.goto("/admin/clinics/duenowcheck/")
    expect(page.locator("#result_list")).to_contain_text("TF-0412")
    repeat = checks_due_now().get(course=course, origin=CheckOrigin.REPEAT)
    assert repeat == finding.repeat_check and repeat.kind == "cbc"
    page.goto("/admin/clinics/openfinding/")  # still listed: the repeat's result is to come
    expect(page.locator("#result_list")).to_contain_text("TF-0412")

    page.goto(f"/admin/clinics/patient/{patient.pk}/change/")
    record_check(page, repeat, anc="2.1")
    expect(page.locator(".messagelist")).to_contain_text("no threshold reached")
    finding.refresh_from_db()
    assert (finding.status, finding.decision) == (FindingStatus.CLOSED, "repeat_result")
    page.goto("/admin/clinics/openfinding/")
    expect(page.locator("#content-main")).not_to_contain_text("TF-0412")

    page.goto(f"/admin/clinics/patient/{patient.pk}/change/")
    summary = page.locator("#care-summary")
    expect(summary).to_contain_text(f"Full blood count, last done {clinic.today().isoformat()}")
    summary.screenshot(path=SCREENSHOTS / "care_summary.png")
    page.screenshot(path=SCREENSHOTS / "patient_after_repeat.png", full_page=True)


def record_check(page: Page, check: MonitoringCheck, *, anc: str) -> None:
    """From the patient's page: record the check done today, unremarkable but for `anc`."""
    page.locator(f"#patient-checks tr:has(a[href*='{check.uuid}'])").get_by_role(
        "link", name="Record as done"
    ).click()
    page.fill("#id_completed_on", check.course.patient.clinic.today().isoformat())
    for analyte in check.analytes:
        value, unit, reading = UNREMARKABLE_VALUES[analyte]
        if reading:
            page.select_option(f"#id_reading_{analyte}", reading)
        page.fill(f"#id_value_{analyte}", anc if analyte == "anc" else value)
        page.fill(f"#id_unit_{analyte}", unit)
    page.click("input[type=submit].default")

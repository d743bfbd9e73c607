"""Findings: a result beyond a threshold opens a finding that stays on the findings list until a
clinician decides; one alert per sample; a repeat test ordered from it is due now, is never
moved by a re-plan or held by a pause, and its result closes the loop; an undecided finding is
escalated after the clinic's working days."""

from datetime import date

import pytest
from django.core.exceptions import ValidationError

from clinics.core.vocab import (
    CheckOrigin,
    CheckStatus,
    CourseStatus,
    FindingDecision,
    FindingStatus,
    MessageKind,
    MissingReason,
)
from clinics.models import Finding, Message, MonitoringCheck
from clinics.selectors.worklists import checks_due_now, dashboard_counts, findings_undecided
from clinics.services.checks import check_complete
from clinics.services.finding_decisions import finding_decide
from clinics.services.findings import findings_escalate
from clinics.services.replanning import course_replan
from clinics.services.results import ResultInput, lab_result_record
from clinics.services.versions import StaleVersion
from tests.support.clock import at

CBC_4W = "cbc/start+4w"  # due 30 March 2026, window to 13 April


def _cbc(check: MonitoringCheck, day: date, **values: str) -> None:
    """Record the blood count with the given values (10^9/L, Hb g/dL); the rest not done."""
    units = {"hb": "g/dL"}
    check_complete(
        check=check,
        completed_on=day,
        results=[ResultInput(a, v, units.get(a, "10^9/L")) for a, v in values.items()],
        missing={a: MissingReason.NOT_DONE for a in check.analytes if a not in values},
        confirm_outside_window=True,
    )


@pytest.fixture
def course(clinician, course):
    return course


@pytest.fixture
def finding(course):
    """Neutrophils 0.8 and lymphocytes 0.4 x 10^9/L at the 4-week blood count (30 March)."""
    with at(2026, 3, 30, 15):
        _cbc(course.checks.get(plan_key=CBC_4W), date(2026, 3, 30), anc="0.8", alc="0.4")
    return Finding.objects.get()


def test_an_interrupt_result_opens_one_finding_and_one_alert_per_sample(finding, course):
    assert finding.action == "discontinue" and finding.confirm  # ALC < 0.5, "confirmed by repeat"
    assert finding.results.count() == 2 and finding.status == FindingStatus.OPEN
    alerts = Message.objects.filter(kind=MessageKind.RESULT_ALERT_STAFF)
    assert alerts.count() == 1  # one staff member, one sample: one alert (not one per analyte)
    data = alerts.get().context
    assert data["finding_url"].endswith(f"/admin/clinics/finding/{finding.pk}/change/")
    assert {r["analyte"] for r in data["results"]} == {"Neutrophils (ANC)", "Lymphocytes (ALC)"}
    with at(2026, 3, 30, 16):
        assert list(findings_undecided()) == [finding]
        (row,) = dashboard_counts(user=_superuser())
        assert row.counts["findings"] == 1


def test_results_of_one_sample_entered_one_by_one_share_a_finding_and_its_alert(course):
    with at(2026, 3, 20, 15):
        for analyte, value, unit in (("hb", "8.5", "g/dL"), ("hb", "6.4", "g/dL")):
            lab_result_record(
                course=course,
                analyte=analyte,
                value=value,
                unit=unit,
                collected_on=date(2026, 3, 20),
            )
        assert Finding.objects.get().results.count() == 1  # 8.5 reached no threshold
        lab_result_record(
            course=course, analyte="anc", value="0.8", unit="10^9/L", collected_on=date(2026, 3, 20)
        )
    finding = Finding.objects.get()  # the same sample: one finding
    assert finding.action == "interrupt" and finding.results.count() == 2
    assert Message.objects.filter(kind=MessageKind.RESULT_ALERT_STAFF).count() == 1


def test_ordering_a_repeat_plans_a_check_due_now_that_closes_the_loop(finding, course):
    with at(2026, 3, 31, 15):
        decided = finding_decide(
            finding=finding, decision=FindingDecision.REPEAT, version=finding.version
        )
        repeat = decided.repeat_check
        assert (repeat.origin, repeat.kind, repeat.due_date) == (
            CheckOrigin.REPEAT,
            "cbc",
            date(2026, 3, 31),
        )
        assert repeat.window_end == date(2026, 4, 7)  # the protocol's repeat_within: 1w
        assert list(checks_due_now().filter(origin=CheckOrigin.REPEAT)) == [repeat]
        assert list(findings_undecided()) == [decided]  # still listed until the repeat's result
        reminder = Message.objects.get(kind=MessageKind.REMINDER)
        assert list(reminder.checks.all()) == [repeat]
        course_replan(course=course)  # a re-plan leaves it alone
        repeat.refresh_from_db()
        assert repeat.status == CheckStatus.SCHEDULED
    with at(2026, 4, 2, 15):
        _cbc(repeat, date(2026, 4, 2), anc="2.1", alc="1.2")
    decided.refresh_from_db()
    assert (decided.status, decided.decision) == (FindingStatus.CLOSED, "repeat_result")
    assert not findings_undecided().exists()
    history = list(decided.history.order_by("history_date").values_list("status", flat=True))
    assert history[-2:] == [FindingStatus.REPEAT_ORDERED, FindingStatus.CLOSED]


def test_a_repeat_result_still_out_of_range_opens_a_new_finding(finding, course):
    with at(2026, 3, 31, 15):
        repeat = finding_decide(finding=finding, decision=FindingDecision.REPEAT).repeat_check
        _cbc(repeat, date(2026, 3, 31), alc="0.3")
    assert list(findings_undecided().values_list("collected_on", flat=True)) == [date(2026, 3, 31)]


def test_pause_from_the_finding_keeps_the_repeat_test_off_hold(finding, course):
    with at(2026, 3, 31, 15):
        repeat = finding_decide(finding=finding, decision=FindingDecision.REPEAT).repeat_check
        finding.refresh_from_db()
        finding_decide(finding=finding, decision=FindingDecision.PAUSE, note="ALC 0.4")
    course.refresh_from_db()
    repeat.refresh_from_db()
    assert course.status == CourseStatus.PAUSED
    assert course.pauses.get().reason == "lab_result"
    assert repeat.status == CheckStatus.SCHEDULED  # a repeat test is how an interruption ends
    assert not findings_undecided().exists()


def test_continue_needs_a_reason_and_a_stale_page_is_refused(finding):
    with at(2026, 3, 31, 15):
        with pytest.raises(ValidationError) as missing_reason:
            finding_decide(finding=finding, decision=FindingDecision.CONTINUE)
        assert "note" in missing_reason.value.message_dict
        with pytest.raises(StaleVersion) as stale:
            finding_decide(
                finding=finding,
                decision=FindingDecision.CONTINUE,
                note="known benign neutropenia",
                version=finding.version - 1,
            )
        assert "version" in stale.value.message_dict
        finding.refresh_from_db()
        assert finding.status == FindingStatus.OPEN  # nothing changed
        finding_decide(
            finding=finding, decision=FindingDecision.CONTINUE, note="benign ethnic neutropenia"
        )
    finding.refresh_from_db()
    assert (finding.status, finding.decision_note) == (
        FindingStatus.CLOSED,
        "benign ethnic neutropenia",
    )


def test_an_undecided_finding_escalates_after_two_working_days(course):
    with at(2026, 4, 3, 15):  # a Friday
        lab_result_record(
            course=course, analyte="anc", value="0.8", unit="10^9/L", collected_on=date(2026, 4, 3)
        )
    with at(2026, 4, 6, 23):  # Monday evening: one working day
        assert findings_escalate() == 0
    with at(2026, 4, 7, 13):  # Tuesday
        assert findings_escalate() == 1
        assert findings_escalate() == 0  # once
    escalations = Message.objects.filter(kind=MessageKind.FINDING_ESCALATION)
    assert escalations.count() == 1
    assert "still needs a decision" in escalations.get().subject
    assert Finding.objects.get().escalated_at is not None


def _superuser():
    from django.contrib.auth.models import User

    return User.objects.create_superuser("root", "root@example.org", "x")

"""A clinic simulated for 180 days: 200 patients on three JAK inhibitors, most entered while
already on the drug, the rest started during the run. Each simulated day the periodic jobs run
(the services behind the Celery tasks), then patients attend or miss their draws, samples wait for
results or are lost, some results are out of range, infections are reported and resolved, and
clinicians decide findings a few days late. After every day the test asserts the safety net:
every open check past its due date is on exactly one staff list, every finding is open until a
decision closes it, and no check is lost, reverted or duplicated."""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

import pytest
import time_machine
from django.db.models.functions import Coalesce

from clinics.core.vocab import (
    UNDECIDED_FINDINGS,
    CareState,
    CheckKind,
    CheckStatus,
    CourseStatus,
    FindingDecision,
    FindingStatus,
    InfectionKind,
    InfectionOutcome,
    MissingReason,
    OutcomeAction,
    Reporter,
)
from clinics.demo import UNREMARKABLE_VALUES
from clinics.models import Drug, Finding, InfectionReport, LabResult, MonitoringCheck, TherapyCourse
from clinics.rulebook import drug_rules
from clinics.selectors.plans import course_plan
from clinics.selectors.worklists import (
    checks_due_now,
    checks_results_pending,
    findings_undecided,
    in_care_state,
    overdue_checks,
    paused_courses,
)
from clinics.services.checks import (
    check_complete,
    check_sample_lost,
    check_sample_taken,
    checks_mark_overdue,
)
from clinics.services.courses import course_resume, course_start, courses_activate_due
from clinics.services.digests import overdue_digests_queue
from clinics.services.finding_decisions import finding_decide
from clinics.services.findings import findings_escalate
from clinics.services.infections import infection_report, infection_resolve
from clinics.services.reminders import reminders_queue_due
from clinics.services.replanning import plans_roll_forward
from clinics.services.results import ResultInput
from clinics.services.staff import staff_member_add
from tests.support.factories import ClinicFactory, PatientFactory

FIRST_DAY = date(2026, 6, 1)
DAYS = 180
PATIENTS = 200
ALREADY_ON_DRUG = 120  # entered on the first day; the rest are started during the run
DRUGS = ("tofacitinib", "baricitinib", "upadacitinib")
# Values that reach an interrupt or advice threshold of each drug's label.
OUT_OF_RANGE = {"cbc": ("anc", ("0.8", "10^9/L")), "liver": ("alt", ("3.5", "xULN"))}
OPEN = (CheckStatus.SCHEDULED, CheckStatus.OVERDUE, CheckStatus.ON_HOLD, CheckStatus.PENDING)


@dataclass
class Habits:
    """How a patient attends: the chance per day of going for a check that is due."""

    attends: float


@dataclass
class Ledger:
    """What the simulated clinicians and patients did, to hold the service's lists against."""

    habits: dict[int, Habits] = field(default_factory=dict)  # by course
    results_on: dict[int, date] = field(default_factory=dict)  # pending check: results arrive
    decide_on: dict[int, date] = field(default_factory=dict)  # finding: a clinician looks
    closed_by_decision: set[int] = field(default_factory=set)
    repeat_for: dict[int, int] = field(default_factory=dict)  # finding: its repeat check
    resolve_on: dict[int, date] = field(default_factory=dict)  # infection report
    resume_on: dict[int, date] = field(default_factory=dict)  # course paused by a finding
    checks: dict[int, tuple[int, str, str]] = field(default_factory=dict)  # (course, key, status)
    done: dict[int, date] = field(default_factory=dict)  # id: completed_on
    events: Counter[str] = field(default_factory=Counter)


class Simulation:
    def __init__(self, *, seed: int):
        self.rng = random.Random(seed)
        self.ledger = Ledger()
        self.clinic = ClinicFactory()
        self.nurse = staff_member_add(
            clinic=self.clinic,
            username="sim-nurse",
            email="nurse@example.org",
            role="clinician",
            password="a-long-test-password",
        )
        self.drugs = {code: Drug.objects.get(code=code) for code in DRUGS}
        self.doses = {  # each drug's first dose labelled for RA in the clinic's jurisdiction
            code: next(
                d.code
                for d in drug_rules(drug=drug).doses
                if d.applies(jurisdiction=self.clinic.jurisdiction, indication="ra")
            )
            for code, drug in self.drugs.items()
        }
        self.enrolled = 0

    # -- enrolment -------------------------------------------------------------------------

    def enrol(self, today: date, *, already_on_drug: bool) -> None:
        rng = self.rng
        self.enrolled += 1
        patient = PatientFactory(
            clinic=self.clinic,
            sex_at_birth=rng.choice(("female", "male")),
            date_of_birth=date(rng.randint(1950, 1995), rng.randint(1, 12), rng.randint(1, 28)),
        )
        drug = self.drugs[rng.choice(DRUGS)]
        if already_on_drug:  # late entry: on the drug for weeks to years before it is entered
            start = today - timedelta(days=rng.randint(20, 700))
            kinds = rng.sample(
                (CheckKind.CBC, CheckKind.LIVER, CheckKind.LIPIDS), k=rng.randint(0, 3)
            )
            done_elsewhere = {
                k.value: start + timedelta(days=rng.randint(1, (today - start).days - 1))
                for k in kinds
            }
        else:
            start, done_elsewhere = today + timedelta(days=rng.randint(3, 21)), {}
        course = course_start(
            patient=patient,
            drug=drug,
            dose_code=self.doses[drug.code],
            indication="ra",
            start_date=start,
            started_by=self.nurse,
            done_elsewhere=done_elsewhere,
        ).course
        reliable = rng.random()
        attends = 0.0 if reliable < 0.08 else 0.15 if reliable < 0.3 else 0.45
        self.ledger.habits[course.pk] = Habits(attends=attends)
        self.ledger.events["enrolled late" if already_on_drug else "started"] += 1

    # -- the periodic jobs (what the Celery tasks call) ------------------------------------

    def run_jobs(self) -> None:
        courses_activate_due()
        plans_roll_forward()
        reminders_queue_due()
        checks_mark_overdue()
        findings_escalate()
        overdue_digests_queue()

    # -- patients and staff ----------------------------------------------------------------

    def values_for(self, check: MonitoringCheck) -> list[ResultInput]:
        values = {a: UNREMARKABLE_VALUES[a] for a in check.analytes}
        if check.kind in OUT_OF_RANGE and self.rng.random() < 0.07:
            analyte, value = OUT_OF_RANGE[check.kind]
            values[analyte] = value
            self.ledger.events["out of range"] += 1
        return [ResultInput(a, *v) for a, v in values.items()]

    def complete(self, check: MonitoringCheck, on: date, *, late: bool = False) -> None:
        missing = {}
        results = self.values_for(check)
        if results and self.rng.random() < 0.03:  # one analyte's tube was lost
            missing[results.pop().analyte] = MissingReason.SAMPLE_LOST
        done = check_complete(
            check=check,
            completed_on=on,
            results=results,
            missing=missing,
            confirm_outside_window=late,
            completed_by=self.nurse,
        )
        assert done.check.done_outside_window == (not check.window_start <= on <= check.window_end)
        for recorded in done.results:  # every outcome but none opens a finding
            assert (recorded.result.finding_id is not None) == (
                recorded.result.outcome_action != OutcomeAction.NONE
            )
        self.ledger.events["done late" if late else "done"] += 1

    def attend(self, today: date) -> None:
        rng, ledger = self.rng, self.ledger
        for check in checks_due_now().select_related("course__patient__clinic").order_by("pk"):
            if rng.random() >= ledger.habits[check.course_id].attends:
                ledger.events["draw missed"] += 1
                continue
            if check.analytes and rng.random() < 0.25:  # results come in a few days later
                check_sample_taken(check=check, sampled_on=today)
                ledger.results_on[check.pk] = today + timedelta(days=rng.randint(1, 6))
                ledger.events["sample taken"] += 1
            else:
                self.complete(check, today)
        for check in overdue_checks().select_related("course__patient__clinic").order_by("pk"):
            if ledger.habits[check.course_id].attends and rng.random() < 0.04:
                self.complete(check, today, late=True)  # entered late, confirmed
        for check in (
            checks_results_pending().select_related("course__patient__clinic").order_by("pk")
        ):
            if ledger.results_on.get(check.pk, today) > today:
                continue
            if rng.random() < 0.06:
                check_sample_lost(check=check)
                ledger.events["sample lost"] += 1
            else:
                self.complete(check, check.sampled_on)

    def report_infections(self, today: date) -> None:
        rng, ledger = self.rng, self.ledger
        for course in (
            TherapyCourse.objects.filter(patient__clinic=self.clinic, status=CourseStatus.ACTIVE)
            .select_related("patient__clinic")
            .order_by("pk")
        ):
            if rng.random() >= 0.0015:
                continue
            reported = infection_report(
                course=course,
                kind=rng.choice(InfectionKind.values()),
                onset_on=max(course.start_date, today - timedelta(days=rng.randint(0, 4))),
                serious=rng.random() < 0.2,
                reporter=Reporter.STAFF,
                reported_by=self.nurse,
            )
            assert TherapyCourse.objects.get(pk=course.pk).status == CourseStatus.PAUSED
            ledger.resolve_on[reported.report.pk] = today + timedelta(days=rng.randint(5, 20))
            ledger.events["infection"] += 1
        for report in InfectionReport.objects.filter(resolved_at__isnull=True):
            if ledger.resolve_on[report.pk] <= today:
                infection_resolve(
                    report=report, outcome=InfectionOutcome.RECOVERED, resolved_by=self.nurse
                )
                ledger.resume_on.setdefault(report.course_id, today)

    def resume(self, today: date) -> None:
        for course in paused_courses().filter(pk__in=list(self.ledger.resume_on)):
            if self.ledger.resume_on[course.pk] > today:
                continue
            if course.infections.filter(resolved_at__isnull=True).exists():
                continue  # another infection: resumed once it is resolved too
            course_resume(course=course)
            del self.ledger.resume_on[course.pk]
            self.ledger.events["resumed"] += 1

    def decide_findings(self, today: date) -> None:
        rng, ledger = self.rng, self.ledger
        for finding in findings_undecided().select_related("course", "repeat_check"):
            if finding.status == FindingStatus.REPEAT_ORDERED:
                if finding.repeat_check.status != CheckStatus.CANCELLED:
                    continue  # waiting for the repeat's result
                ledger.decide_on.setdefault(finding.pk, today)  # the repeat went with the course
            when = ledger.decide_on.setdefault(finding.pk, today + timedelta(rng.randint(0, 5)))
            if when > today:
                continue
            decision = self.decision_for(finding)
            decided = finding_decide(
                finding=finding,
                decision=decision,
                note="Reviewed in the simulated clinic." if decision == "continue" else "",
                decided_by=self.nurse,
                version=finding.version,
            )
            del ledger.decide_on[finding.pk]
            if decision == FindingDecision.REPEAT:
                ledger.repeat_for[finding.pk] = decided.repeat_check_id
            else:
                ledger.closed_by_decision.add(finding.pk)
            if decision == FindingDecision.PAUSE:
                ledger.resume_on.setdefault(finding.course_id, today + timedelta(days=10))
            ledger.events[f"decided {decision}"] += 1

    def decision_for(self, finding: Finding) -> str:
        if finding.course.status == CourseStatus.STOPPED:
            return FindingDecision.STOP  # records the decision; the course is already stopped
        if finding.status == FindingStatus.REPEAT_ORDERED:
            return FindingDecision.CONTINUE
        roll = self.rng.random()
        if roll < 0.5:
            return FindingDecision.REPEAT
        if roll < 0.75:
            return FindingDecision.CONTINUE
        if roll < 0.92 and finding.course.status != CourseStatus.PLANNED:
            return FindingDecision.PAUSE
        return FindingDecision.STOP

    # -- the safety net ----------------------------------------------------------------------

    def assert_every_open_check_is_on_one_list(self, today: date) -> None:
        lists = {
            "due now": set(checks_due_now().values_list("pk", flat=True)),
            "overdue": set(overdue_checks().values_list("pk", flat=True)),
            "results pending": set(checks_results_pending().values_list("pk", flat=True)),
            "on hold": set(
                MonitoringCheck.objects.filter(in_care_state(CareState.ON_HOLD)).values_list(
                    "pk", flat=True
                )
            ),
        }
        past_due = MonitoringCheck.objects.filter(status__in=OPEN, due_date__lte=today)
        for pk, status in past_due.values_list("pk", "status"):
            on = [name for name, ids in lists.items() if pk in ids]
            assert len(on) == 1, f"{today}: check {pk} ({status}) is on {on or 'no list'}"
        # A held check is seen through its course on the paused list, never under another.
        held_courses = MonitoringCheck.objects.filter(pk__in=lists["on hold"]).values("course")
        assert not TherapyCourse.objects.filter(pk__in=held_courses).exclude(
            pk__in=paused_courses().values("pk")
        ), today
        # An upcoming check is on none of them.
        upcoming = set(
            MonitoringCheck.objects.filter(
                status=CheckStatus.SCHEDULED, due_date__gt=today
            ).values_list("pk", flat=True)
        )
        assert not upcoming & (lists["due now"] | lists["overdue"]), today

    def assert_findings_open_until_decided(self, today: date) -> None:
        ledger = self.ledger
        undecided = set(findings_undecided().values_list("pk", flat=True))
        for pk, status, repeat_status in Finding.objects.values_list(
            "pk", "status", "repeat_check__status"
        ):
            closed = pk in ledger.closed_by_decision or (
                pk in ledger.repeat_for and repeat_status == CheckStatus.DONE
            )
            assert (status == FindingStatus.CLOSED) == closed, f"{today}: finding {pk} {status}"
            assert (pk in undecided) == (status in UNDECIDED_FINDINGS), f"{today}: finding {pk}"
        unfiled = LabResult.objects.exclude(outcome_action=OutcomeAction.NONE).filter(
            finding__isnull=True
        )
        assert not unfiled.exists(), f"{today}: a result beyond a threshold has no finding"

    def assert_no_check_lost_or_duplicated(self, today: date) -> None:
        ledger = self.ledger
        rows = {
            pk: (course, key, status, completed_on)
            for pk, course, key, status, completed_on in MonitoringCheck.objects.values_list(
                "pk", "course", "plan_key", "status", "completed_on"
            )
        }
        keys = Counter((course, key) for course, key, _, _ in rows.values())
        assert keys.most_common(1)[0][1] == 1, f"{today}: duplicate {keys.most_common(1)}"
        for pk, (course, key, _) in ledger.checks.items():
            assert rows.get(pk, (None, None))[:2] == (course, key), f"{today}: {pk} was lost"
        for pk, completed_on in ledger.done.items():
            assert rows[pk][2:] == (CheckStatus.DONE, completed_on), f"{today}: {pk} reverted"
        self.assert_cancelled_for_a_reason(
            [
                pk
                for pk, (_, _, status, _) in rows.items()
                if status == CheckStatus.CANCELLED
                and ledger.checks.get(pk, (0, "", CheckStatus.SCHEDULED))[2] != status
            ],
            today,
        )
        ledger.checks = {pk: row[:3] for pk, row in rows.items()}
        ledger.done = {pk: row[3] for pk, row in rows.items() if row[2] == CheckStatus.DONE}

    def assert_cancelled_for_a_reason(self, pks: list[int], today: date) -> None:
        """A check is cancelled only with its course stopped or when its plan no longer has it."""
        for check in MonitoringCheck.objects.filter(
            pk__in=pks, course__status__in=(CourseStatus.ACTIVE, CourseStatus.PAUSED)
        ).select_related("course__patient__clinic", "course__drug"):
            planned = {p.key for p in course_plan(course=check.course, as_of=today).checks}
            assert check.plan_key not in planned, f"{today}: check {check.pk} cancelled"

    def assert_every_planned_check_is_kept(self, today: date) -> None:
        """Each check the rules plan up to a month ahead is stored, or its window closed after
        the kind was done (nothing needed): nothing the plan asks for is silently absent."""
        for course in TherapyCourse.objects.filter(
            patient__clinic=self.clinic, status=CourseStatus.ACTIVE
        ).select_related("patient__clinic", "drug"):
            stored = set(course.checks.values_list("plan_key", flat=True))
            last_done: dict[str, date] = {}
            for kind, day in course.checks.filter(
                status__in=(CheckStatus.DONE, CheckStatus.PENDING)
            ).values_list("kind", Coalesce("completed_on", "sampled_on")):
                last_done[kind] = max(day, last_done.get(kind, day))
            for p in course_plan(course=course, as_of=today).checks:
                if p.window_start > today + timedelta(days=30) or p.key in stored:
                    continue
                covered = p.window_end < today and last_done.get(p.kind, date.min) >= (
                    p.window_start
                )
                assert covered, f"{today}: {p.key} of course {course.pk} is not stored"


@pytest.fixture
def simulation(rules_loaded, settings):
    settings.JAKMONITOR = {**settings.JAKMONITOR, "PLAN_HORIZON_MONTHS": 6}
    with time_machine.travel(datetime.combine(FIRST_DAY, time(15), UTC), tick=False) as clock:
        yield Simulation(seed=13), clock


def test_a_clinic_over_180_days_lets_nothing_slip_through(simulation):
    sim, clock = simulation
    late_starters = PATIENTS - ALREADY_ON_DRUG
    for _ in range(ALREADY_ON_DRUG):
        sim.enrol(FIRST_DAY, already_on_drug=True)
    for day in range(DAYS):
        today = FIRST_DAY + timedelta(days=day)
        clock.move_to(datetime.combine(today, time(15), UTC))  # 10 or 11 in the clinic
        if day % 2 == 0 and day // 2 < late_starters:
            sim.enrol(today, already_on_drug=False)
        sim.run_jobs()
        sim.assert_every_open_check_is_on_one_list(today)
        sim.attend(today)
        sim.report_infections(today)
        sim.decide_findings(today)
        sim.resume(today)
        sim.assert_every_open_check_is_on_one_list(today)
        sim.assert_findings_open_until_decided(today)
        sim.assert_no_check_lost_or_duplicated(today)
        if day % 7 == 6:
            sim.assert_every_planned_check_is_kept(today)
    events = sim.ledger.events
    # The run exercised what it claims to: each kind of event happened, more than once.
    assert sim.enrolled == PATIENTS
    for event in (
        "enrolled late",
        "started",
        "draw missed",
        "sample taken",
        "sample lost",
        "out of range",
        "done late",
        "infection",
        "resumed",
        "decided repeat",
        "decided continue",
        "decided pause",
        "decided stop",
    ):
        assert events[event] > 1, f"{event}: {events[event]}"
    assert MonitoringCheck.objects.filter(origin="catch_up").count() > 20
    assert Finding.objects.filter(status=FindingStatus.CLOSED, decision="repeat_result").exists()

"""Re-planning: pauses shift later checks, resume brings them back, nothing is ever duplicated
and a done check is never lost (property tests with hypothesis, pure and through the services)."""

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase

from clinics.core.planning import CourseFacts, Pause, plan_course
from clinics.core.reconcile import ExistingCheck, reconcile
from clinics.core.ruleset import load_library
from clinics.core.vocab import CheckStatus
from clinics.services.patients import patient_update
from tests.support.clock import at
from tests.support.factories import infection_facts, without_values
from tests.support.seed_edits import SEEDS

START = date(2026, 1, 5)
LIB = load_library(SEEDS)
PROTOCOL = LIB.protocols["default"].rules


def plan(drug="tofacitinib", **facts):
    return plan_course(
        drug=LIB.drugs[drug].rules,
        protocol=PROTOCOL,
        facts=CourseFacts(start=START, jurisdiction="US", **facts),
    )


def test_pause_shifts_later_checks_by_its_length():
    before = {c.key: c for c in plan().checks}
    after = {c.key: c for c in plan(pauses=(Pause(date(2026, 1, 20), date(2026, 2, 3)),)).checks}
    assert after["cbc/baseline"].due == before["cbc/baseline"].due
    assert after["cbc/start+4w"].window_start == before["cbc/start+4w"].window_start + timedelta(
        days=14
    )
    assert after["cbc/start+4w"].window_end == before["cbc/start+4w"].window_end + timedelta(
        days=14
    )
    assert after["skin_exam/start+1y"].due == before["skin_exam/start+1y"].due + timedelta(days=14)


def test_dose_increase_during_a_pause_counts_from_the_resume():
    """Time on the drug stops at the pause: an increase recorded while paused and one on the
    resume day anchor the same follow-up."""
    pause = (Pause(date(2026, 2, 20), date(2026, 3, 12)),)
    during = plan("abrocitinib", pauses=pause, dose_increases=(date(2026, 3, 11),))
    on_resume = plan("abrocitinib", pauses=pause, dose_increases=(date(2026, 3, 12),))
    assert [(c.due, c.window_start, c.window_end) for c in during.checks] == [
        (c.due, c.window_start, c.window_end) for c in on_resume.checks
    ]


def test_overlapping_pauses_are_refused():
    with pytest.raises(ValueError, match="overlap"):
        plan(
            pauses=(
                Pause(date(2026, 2, 1), date(2026, 2, 15)),
                Pause(date(2026, 2, 5), date(2026, 2, 20)),
            )
        )


def test_pause_before_the_first_dose_delays_nothing_after_it_ended():
    assert plan(pauses=(Pause(date(2025, 12, 1), date(2026, 1, 5)),)) == plan()


def test_dose_increase_adds_checks_only_where_a_rule_asks():
    base = plan("abrocitinib")
    increased = plan("abrocitinib", dose_increases=(date(2026, 5, 4),))
    new_keys = {c.key for c in increased.checks} - {c.key for c in base.checks}
    assert new_keys and all("dose-2026-05-04" in k for k in new_keys)
    assert {c.key for c in plan(dose_increases=(date(2026, 5, 4),)).checks} == {
        c.key for c in plan().checks
    }


def _apply(state: dict, changes, planned, as_of):
    by_key = {p.key: p for p in planned}
    for p in (*changes.create, *changes.update):
        assert p.key not in state or state[p.key].status != "done"
        state[p.key] = ExistingCheck(p.key, "scheduled", p.content)
    for key in changes.cancel:
        assert state[key].status != "done"
        old = state[key]
        state[key] = replace(old, status="cancelled")
    assert set(by_key) >= {k for k, v in state.items() if v.status == "scheduled"}


operations = st.lists(
    st.tuples(
        st.sampled_from(["pause", "resume", "dose_up", "complete", "rules", "wait"]),
        st.integers(min_value=1, max_value=120),
    ),
    max_size=12,
)


@settings(max_examples=200, deadline=None)
@given(ops=operations, drug=st.sampled_from(sorted(LIB.drugs)))
def test_any_sequence_never_duplicates_or_loses_done_checks(ops, drug):
    rules = LIB.drugs[drug].rules
    jurisdiction = rules.drug.jurisdictions[0]
    today, pauses, increases, state, done = START, [], [], {}, {}
    horizon_rules = [PROTOCOL, PROTOCOL.model_copy(update={"additional": PROTOCOL.additional[:1]})]
    protocol = horizon_rules[0]
    for op, days in ops + [("wait", 1)]:
        today += timedelta(days=days)
        if op == "pause" and not (pauses and pauses[-1].end is None):
            pauses.append(Pause(today))
        elif op == "resume" and pauses and pauses[-1].end is None:
            pauses[-1] = Pause(pauses[-1].start, today)
        elif op == "dose_up":
            increases.append(today)
        elif op == "rules":
            protocol = horizon_rules[1] if protocol is horizon_rules[0] else horizon_rules[0]
        elif op == "complete":
            open_keys = sorted(k for k, v in state.items() if v.status == "scheduled")
            if open_keys:
                key = open_keys[days % len(open_keys)]
                state[key] = replace(state[key], status="done")
                done[key] = state[key]
        facts = CourseFacts(
            start=START,
            jurisdiction=jurisdiction,
            pauses=tuple(pauses),
            dose_increases=tuple(increases),
            sex_at_birth="female",
        )
        planned = plan_course(drug=rules, protocol=protocol, facts=facts, as_of=today).checks
        assert len({p.key for p in planned}) == len(planned)
        assert all(p.window_start <= p.due <= p.window_end for p in planned)
        changes = reconcile(
            existing=list(state.values()), planned=planned, as_of=today, backfill_baseline=not state
        )
        touched = [p.key for p in (*changes.create, *changes.update)] + list(changes.cancel)
        assert len(touched) == len(set(touched)), "a key is changed twice in one re-plan"
        assert not set(touched) & set(done), "a done check was touched"
        _apply(state, changes, planned, today)
        assert all(state[k] == v for k, v in done.items())
        by_key = {p.key: p for p in planned}
        for key, check in state.items():  # every open check now follows the plan exactly
            if check.status == "scheduled":
                assert check.content == by_key[key].content


class ServiceSequenceTest(TestCase):
    """The same property through the real services and database constraints."""

    @classmethod
    def setUpTestData(cls):
        from clinics.services.seeds import rules_load

        rules_load(seed_dir=SEEDS)

    @settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(
        ops=st.lists(
            st.tuples(
                st.sampled_from(["infection", "resume", "dose", "complete", "wait"]),
                st.integers(min_value=1, max_value=60),
            ),
            max_size=8,
        )
    )
    def test_services_never_duplicate_or_lose_done_checks(self, ops):
        from clinics.models import Drug, MonitoringCheck
        from clinics.services.checks import check_complete
        from clinics.services.courses import course_change_dose, course_resume, course_start
        from clinics.services.infections import infection_report, infection_resolve
        from tests.support.factories import ClinicFactory, PatientFactory

        now = datetime(2026, 1, 5, 15, tzinfo=UTC)
        with time_machine.travel(now, tick=False):
            patient = PatientFactory(clinic=ClinicFactory())
            course = course_start(
                patient=patient,
                drug=Drug.objects.get(code="abrocitinib"),
                dose_code="100mg-qd",
                indication="ad",
                start_date=now.date(),
            ).course
        done: dict[int, tuple] = {}
        for op, days in ops:
            now += timedelta(days=days)
            with time_machine.travel(now, tick=False):
                course.refresh_from_db()
                if op == "infection" and course.status == "active":
                    infection_report(
                        course=course, **infection_facts(course), serious=True, reporter="staff"
                    )
                elif op == "resume" and course.status == "paused":
                    for report in course.infections.filter(resolved_at__isnull=True):
                        infection_resolve(report=report, outcome="recovered")
                    course_resume(course=course)
                elif op == "dose" and course.status != "stopped":
                    dose = "200mg-qd" if course.dose_code == "100mg-qd" else "100mg-qd"
                    course_change_dose(course=course, dose_code=dose)
                elif op == "complete":
                    check = course.checks.filter(
                        status__in=["scheduled", "overdue", "on_hold"]
                    ).first()
                    if check is not None:
                        check_complete(
                            check=check, completed_on=now.date(), **without_values(check)
                        )
                course.refresh_from_db()
                for check in MonitoringCheck.objects.filter(course=course, status=CheckStatus.DONE):
                    done.setdefault(check.pk, (check.plan_key, check.due_date, check.completed_on))
                keys = list(course.checks.values_list("plan_key", flat=True))
                assert len(keys) == len(set(keys))
                for pk, snapshot in done.items():
                    check = MonitoringCheck.objects.get(pk=pk)
                    assert check.status == CheckStatus.DONE
                    assert (check.plan_key, check.due_date, check.completed_on) == snapshot
                if course.status == "paused":
                    assert not course.checks.filter(status__in=["scheduled", "overdue"]).exists()


def test_recording_reproductive_potential_replans_the_pregnancy_test(course):
    patient = course.patient  # female, 55 at the start: the protocol's default plans the test
    pregnancy = course.checks.get(kind="pregnancy")
    assert pregnancy.status in ("scheduled", "overdue")
    with at(2026, 3, 2, 16):
        patient_update(patient=patient, data={"reproductive_potential": False})
    pregnancy.refresh_from_db()
    assert pregnancy.status == "cancelled"
    with at(2026, 3, 2, 17):
        patient_update(patient=patient, data={"reproductive_potential": None})
    assert course.checks.filter(kind="pregnancy", status__in=["scheduled", "overdue"]).exists()

"""A course's plan as the rules give it now: the planner's facts read from the stored course, and
the planned checks (nothing is written; `services.replanning` writes them)."""

from __future__ import annotations

from datetime import date

from django.conf import settings

from ..core.dates import Duration
from ..core.planning import (
    Contraception,
    CourseFacts,
    Pause,
    Plan,
    contraception_after,
    plan_course,
)
from ..core.vocab import SexAtBirth
from ..models import TherapyCourse
from ..rulebook import drug_rules, protocol_rules


def plan_horizon() -> Duration:
    return Duration(settings.JAKMONITOR["PLAN_HORIZON_MONTHS"], "m")


def course_facts(*, course: TherapyCourse) -> CourseFacts:
    """The planner's facts; an unsaved course (a preview before starting) has no history yet."""
    patient = course.patient
    saved = course.pk is not None
    return CourseFacts(
        start=course.start_date,
        jurisdiction=patient.clinic.jurisdiction,
        indication=course.indication,
        age_years=patient.age_on(course.start_date),
        sex_at_birth=None if patient.sex_at_birth == SexAtBirth.UNKNOWN else patient.sex_at_birth,
        renal_value=course.renal_value,
        renal_measure=course.renal_measure or None,
        dose_code=course.dose_code,
        dose_stable_on=course.dose_stable_on,
        child_pugh=course.child_pugh or None,
        interacting=None if course.interacting is None else tuple(course.interacting),
        conditions=None if course.conditions is None else tuple(course.conditions),
        reproductive_potential=patient.reproductive_potential,
        weight_kg=patient.weight_kg,
        creatinine=course.creatinine,
        creatinine_unit=course.creatinine_unit or None,
        pauses=tuple(Pause(p.paused_on, p.resumed_on) for p in course.pauses.all())
        if saved
        else (),
        dose_increases=tuple(c.effective_on for c in course.dose_changes.all() if c.is_increase)
        if saved
        else (),
    )


def course_plan(*, course: TherapyCourse, as_of: date | None = None) -> Plan:
    """The plan the rules give for this course now, from `as_of` (default: the clinic's today)."""
    clinic = course.patient.clinic
    return plan_course(
        drug=drug_rules(drug=course.drug),
        protocol=protocol_rules(protocol=clinic.protocol),
        facts=course_facts(course=course),
        as_of=as_of or clinic.today(),
        horizon=plan_horizon(),
    )


def course_contraception(
    *, course: TherapyCourse, last_dose: date | None = None
) -> Contraception | None:
    """The label's contraception period after the last dose (default: the stop date), for a
    patient who could become pregnant; None where the label gives none."""
    return contraception_after(
        drug=drug_rules(drug=course.drug),
        protocol=protocol_rules(protocol=course.patient.clinic.protocol),
        facts=course_facts(course=course),
        last_dose=last_dose or course.stopped_on or course.patient.clinic.today(),
    )

"""Starting a course, read side: the drugs and doses a clinic may start, and what a start would do
(the checks it plans, the label's dose advice, the do-not-start rules and the patient's recent
results that reach them), shown to staff before anything is saved."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.core.exceptions import ValidationError

from ..core.planning import Advice, FactQuestion, PlannedCheck, RenalGap
from ..core.reconcile import CatchUp, DoneBefore, reconcile
from ..core.ruleset import Dose, DrugRules, Indication, ScreeningRule, Threshold
from ..core.thresholds import Outcome, evaluate
from ..core.vocab import (
    CheckKind,
    ChildPugh,
    CourseCondition,
    Interacting,
    OutcomeAction,
    Phase,
    RuleAction,
)
from ..models import CREATININE_UNITS, Clinic, Drug, LabResult, Patient, TherapyCourse
from ..rulebook import drug_rules, protocol_rules
from .plans import course_plan

MAX_AHEAD = timedelta(days=366)  # planning further ahead than this is a typing mistake


@dataclass(frozen=True)
class StartableDrug:
    """A drug labelled in the clinic's jurisdiction, with the doses labelled there."""

    drug: Drug
    doses: tuple[Dose, ...]
    indications: tuple[Indication, ...]


def labelled_doses(
    *, rules: DrugRules, jurisdiction: str, indication: str | None = None
) -> tuple[Dose, ...]:
    """The drug's doses labelled in `jurisdiction`, for `indication` (None: for any)."""
    return tuple(
        d
        for d in rules.doses
        if (d.jurisdictions is None or jurisdiction in d.jurisdictions)
        and (indication is None or d.applies(jurisdiction=jurisdiction, indication=indication))
    )


def drugs_startable(*, clinic: Clinic) -> list[StartableDrug]:
    """What staff of `clinic` may start: each drug with a label in its jurisdiction, by name."""
    startable = []
    for drug in Drug.objects.order_by("name"):
        if clinic.jurisdiction not in drug.jurisdictions:
            continue
        rules = drug_rules(drug=drug)
        startable.append(
            StartableDrug(
                drug=drug,
                doses=labelled_doses(rules=rules, jurisdiction=clinic.jurisdiction),
                indications=tuple(rules.drug.indications),
            )
        )
    return startable


def dose_validate(*, drug: Drug, jurisdiction: str, dose_code: str, indication: str) -> None:
    """Refuse, naming the field, a drug without a label here, an indication it does not have or
    a dose not labelled for that indication."""
    rules = drug_rules(drug=drug)
    errors = {}
    if jurisdiction not in rules.drug.jurisdictions:
        errors["drug"] = (
            f"{rules.drug.name} has no label for the clinic's jurisdiction ({jurisdiction})."
        )
    indications = {i.code: i.name for i in rules.drug.indications}
    if indication not in indications:
        errors["indication"] = f"Choose one of: {', '.join(sorted(indications))}."
    dose = rules.dose(dose_code)
    if dose is None:
        errors["dose_code"] = f"Choose one of: {', '.join(d.code for d in rules.doses)}."
    elif not dose.applies(jurisdiction=jurisdiction, indication=indication):
        errors["dose_code"] = (
            f"{dose.label} is not a labelled dose for {indications.get(indication, indication)}."
        )
    if errors:
        raise ValidationError(errors)


@dataclass(frozen=True)
class BaselineFinding:
    result: LabResult
    outcome: Outcome


def baseline_findings(
    *, patient: Patient, drug: Drug, indication: str, start_date: date
) -> tuple[BaselineFinding, ...]:
    """The patient's latest result of each analyte within the protocol's baseline look-back
    (from any earlier course, e.g. before a switch), evaluated against this drug's baseline
    rules: do-not-start thresholds and baseline advice, each with its text and source."""
    clinic = patient.clinic
    protocol = protocol_rules(protocol=clinic.protocol)
    since = protocol.settings.baseline_lookback.before(start_date)
    latest: dict[str, LabResult] = {}
    for result in LabResult.objects.filter(
        course__patient=patient, collected_on__range=(since, start_date)
    ).order_by("analyte", "-collected_on", "-id"):
        latest.setdefault(result.analyte, result)
    rules = drug_rules(drug=drug)
    findings = []
    for result in latest.values():
        outcome = evaluate(
            drug=rules,
            protocol=protocol,
            analyte=result.analyte,
            value=result.value,
            unit=result.unit,
            jurisdiction=clinic.jurisdiction,
            indication=indication,
            phase=Phase.BASELINE,
            interpretation=result.interpretation,
        )
        if outcome.findings:
            findings.append(BaselineFinding(result, outcome))
    return tuple(findings)


def blocking(findings: tuple[BaselineFinding, ...]) -> list[BaselineFinding]:
    """The findings that reach a do-not-start threshold."""
    return [f for f in findings if f.outcome.action == OutcomeAction.DO_NOT_START]


@dataclass(frozen=True)
class StartPreview:
    """What starting a course would do, shown to staff before anything is saved."""

    course: TherapyCourse  # unsaved
    checks: tuple[PlannedCheck, ...]
    advice: tuple[Advice, ...]
    renal_gaps: tuple[RenalGap, ...]  # renal advice that needs another measure than entered
    questions: tuple[FactQuestion, ...]  # hepatic, interaction, condition facts not recorded
    do_not_start_rules: tuple[Threshold | ScreeningRule, ...]
    findings: tuple[BaselineFinding, ...]
    # A course entered after its start: what was missed, caught up or done elsewhere.
    catch_up: tuple[CatchUp, ...] = ()
    done_elsewhere: tuple[DoneBefore, ...] = ()
    # Kinds whose "last done" date is before every planned check of the kind (not used).
    unused_done_elsewhere: tuple[str, ...] = ()

    @property
    def blocking(self) -> bool:
        return bool(blocking(self.findings))


def course_start_preview(
    *,
    patient: Patient,
    drug: Drug,
    dose_code: str,
    indication: str,
    start_date: date,
    renal_value: Decimal | None = None,
    renal_measure: str = "",
    creatinine: Decimal | None = None,
    creatinine_unit: str = "",
    child_pugh: str = "",
    interacting: Sequence[str] | None = None,
    conditions: Sequence[str] | None = None,
    done_elsewhere: Mapping[str, date] | None = None,
) -> StartPreview:
    """The checks `course_start` would plan, the renal and age dose advice, the drug's
    do-not-start thresholds and the patient's recent results that reach them, and for a course
    entered after its start the catch-up checks for what was missed (`done_elsewhere`: the day
    each kind was last done before the course was entered). Writes nothing; raises the
    ValidationError `course_start` would raise for bad input."""
    clinic = patient.clinic
    dose_validate(
        drug=drug, jurisdiction=clinic.jurisdiction, dose_code=dose_code, indication=indication
    )
    if (renal_value is None) != (not renal_measure):
        raise ValidationError({"renal_measure": "Give the renal value together with its measure."})
    if renal_value is not None and renal_value < 0:
        raise ValidationError({"renal_value": "Renal function cannot be negative."})
    _dose_facts_validate(
        creatinine=creatinine,
        creatinine_unit=creatinine_unit,
        child_pugh=child_pugh,
        interacting=interacting,
        conditions=conditions,
    )
    if start_date < patient.date_of_birth:
        raise ValidationError(
            {"start_date": "The start date is before the patient's date of birth."}
        )
    today = clinic.today()
    if start_date > today + MAX_AHEAD:
        raise ValidationError({"start_date": "A course can be entered at most a year ahead."})
    course = TherapyCourse(
        patient=patient,
        drug=drug,
        rules_version_id=drug.current_version_id,
        dose_code=dose_code,
        indication=indication,
        start_date=start_date,
        renal_value=renal_value,
        renal_measure=renal_measure,
        creatinine=creatinine,
        creatinine_unit=creatinine_unit,
        child_pugh=child_pugh,
        interacting=None if interacting is None else sorted(set(interacting)),
        conditions=None if conditions is None else sorted(set(conditions)),
    )
    done_elsewhere = dict(done_elsewhere or {})
    _done_elsewhere_validate(done_elsewhere, start_date=start_date, today=today)
    plan = course_plan(course=course, as_of=today)
    changes = reconcile(
        existing=(),
        planned=plan.checks,
        as_of=today,
        backfill_baseline=True,
        done_elsewhere=done_elsewhere,
    )
    rules = drug_rules(drug=drug)
    thresholds: list[Threshold | ScreeningRule] = [
        *rules.thresholds,
        *protocol_rules(protocol=clinic.protocol).thresholds,
        *rules.screening,
    ]
    return StartPreview(
        course=course,
        checks=changes.create,
        advice=plan.advice,
        renal_gaps=plan.renal_gaps,
        questions=plan.questions,
        do_not_start_rules=tuple(
            t
            for t in thresholds
            if t.action == RuleAction.DO_NOT_START
            and t.applies(jurisdiction=clinic.jurisdiction, indication=indication)
        ),
        findings=baseline_findings(
            patient=patient, drug=drug, indication=indication, start_date=start_date
        ),
        catch_up=changes.catch_up,
        done_elsewhere=changes.done_before,
        unused_done_elsewhere=changes.unused_done_elsewhere,
    )


def _dose_facts_validate(
    *,
    creatinine: Decimal | None,
    creatinine_unit: str,
    child_pugh: str,
    interacting: Sequence[str] | None,
    conditions: Sequence[str] | None,
) -> None:
    errors = {}
    if (creatinine is None) != (not creatinine_unit):
        errors["creatinine_unit"] = "Give the creatinine value together with its unit."
    elif creatinine_unit and creatinine_unit not in dict(CREATININE_UNITS):
        errors["creatinine_unit"] = f"Choose one of: {', '.join(dict(CREATININE_UNITS))}."
    if creatinine is not None and creatinine <= 0:
        errors["creatinine"] = "Serum creatinine must be above 0."
    if child_pugh and child_pugh not in ChildPugh.values():
        errors["child_pugh"] = ChildPugh.refusal()
    for field, codes, known in (
        ("interacting", interacting, Interacting),
        ("conditions", conditions, CourseCondition),
    ):
        unknown = [c for c in codes or () if c not in known.values()]
        if unknown:
            errors[field] = f"Unknown: {', '.join(unknown)}. {known.refusal()}"
    if errors:
        raise ValidationError(errors)


def _done_elsewhere_validate(
    done_elsewhere: Mapping[str, date], *, start_date: date, today: date
) -> None:
    errors = {}
    for kind, day in done_elsewhere.items():
        field = f"done_elsewhere[{kind}]"
        if kind not in CheckKind.values():
            errors[field] = f"Not a kind of check; choose among: {', '.join(CheckKind.values())}."
        elif start_date > today:
            errors[field] = "Only for a course that started in the past: leave it empty."
        elif day > today:
            errors[field] = "The last time it was done cannot be in the future."
    if errors:
        raise ValidationError(errors)

"""Recording lab results and evaluating them against the drug's thresholds."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import transaction

from ..lifecycle import CourseStatus, LifecycleConflict
from ..models import LabResult, MonitoringCheck, TherapyCourse
from ..thresholds import ANALYTES, Outcome, UnitError, check_unit, convert, evaluate
from .rules import drug_rules, protocol_rules


@dataclass(frozen=True)
class ResultInput:
    analyte: str
    value: Decimal | str | float
    unit: str


@dataclass(frozen=True)
class RecordedResult:
    result: LabResult
    outcome: Outcome


def _clean_value(value) -> Decimal:
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise ValidationError({"value": f"{value!r} is not a number."}) from None
    if not number.is_finite() or number < 0 or number >= Decimal("1e8"):
        raise ValidationError({"value": f"{value!r} is not a plausible result."})
    return number


def _phase(course: TherapyCourse, collected_on: date) -> str:
    if course.status == CourseStatus.PLANNED or collected_on < course.start_date:
        return "baseline"
    return "paused" if course.status == CourseStatus.PAUSED else "treatment"


def lab_result_record(
    *,
    course: TherapyCourse,
    analyte: str,
    value,
    unit: str,
    collected_on: date,
    monitoring_check: MonitoringCheck | None = None,
    recorded_by=None,
) -> RecordedResult:
    """Store one result and evaluate it against the drug's and the protocol's thresholds.

    The outcome (none / advise / do_not_start / interrupt / discontinue, with each rule's text
    and source) is stored with the result; rules that compare use the previous result of the
    same analyte in this course. The course itself is not changed: clinicians decide.
    """
    if analyte not in ANALYTES:
        raise ValidationError(
            {"analyte": f"Unknown analyte {analyte!r}; use one of: {', '.join(ANALYTES)}."}
        )
    number = _clean_value(value)
    try:
        check_unit(analyte=analyte, unit=unit)
    except UnitError as exc:
        raise ValidationError({exc.field: str(exc)}) from None
    if course.status == CourseStatus.STOPPED:
        raise LifecycleConflict(
            {"course": "The course is stopped; results are not evaluated."}, code="conflict"
        )
    clinic = course.patient.clinic
    if collected_on > clinic.today():
        raise ValidationError({"collected_on": "The collection date is in the future."})
    with transaction.atomic():
        previous = (
            LabResult.objects.filter(course=course, analyte=analyte, collected_on__lte=collected_on)
            .order_by("-collected_on", "-id")
            .first()
        )
        previous_value = None
        if previous is not None:
            previous_value = (
                convert(analyte=analyte, value=previous.value, unit=previous.unit, to_unit=unit)
                if previous.unit != unit
                else previous.value
            )
        outcome = evaluate(
            drug=drug_rules(drug=course.drug),
            protocol=protocol_rules(protocol=clinic.protocol),
            analyte=analyte,
            value=number,
            unit=unit,
            jurisdiction=clinic.jurisdiction,
            indication=course.indication,
            phase=_phase(course, collected_on),
            previous=previous_value,
        )
        result = LabResult.objects.create(
            course=course,
            monitoring_check=monitoring_check,
            analyte=analyte,
            value=number,
            unit=unit,
            collected_on=collected_on,
            recorded_by=recorded_by,
            outcome_action=outcome.action,
            outcome=[
                {
                    "rule_id": f.rule_id,
                    "action": f.action,
                    "text": f.text,
                    "source": f.source,
                    "verified": f.verified,
                    "confirm": f.confirm,
                }
                for f in outcome.findings
            ],  # fmt: skip
        )
    return RecordedResult(result=result, outcome=outcome)

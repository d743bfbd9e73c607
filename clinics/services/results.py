"""Recording lab results and evaluating them against the drug's thresholds."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction

from ..core.thresholds import Outcome, evaluate
from ..core.units import ANALYTES, QUALITATIVE, UnitError, check_unit, convert, normalise_unit
from ..core.vocab import CourseStatus, Interpretation, Phase
from ..models import LabResult, MonitoringCheck, TherapyCourse
from ..rulebook import drug_rules, protocol_rules
from .alerts import finding_alert_queue
from .findings import finding_for_result


@dataclass(frozen=True)
class ResultInput:
    analyte: str
    value: Decimal | str | float | None
    unit: str
    interpretation: str = ""  # a screening test's reading: positive, negative, ...


@dataclass(frozen=True)
class RecordedResult:
    result: LabResult
    outcome: Outcome


UNIT_LENGTH = 20  # LabResult.unit's max_length
_PLACES = Decimal("0.0001")  # LabResult.value keeps 4 decimal places
_LIMIT = Decimal("1e8")  # and 8 digits before the point


def _clean_value(value: object) -> Decimal:
    """The value as stored, so that what is evaluated is exactly what is kept."""
    try:
        number = Decimal(str(value).strip())
        if not number.is_finite():
            raise InvalidOperation
        number = number.quantize(_PLACES, rounding=ROUND_HALF_UP)
    except (InvalidOperation, ValueError):
        raise ValidationError({"value": f"{value!r} is not a number."}) from None
    if number < 0 or number >= _LIMIT:
        raise ValidationError({"value": f"{value!r} is not a plausible result."})
    return number


def _clean_unit(analyte: str, unit: str) -> str:
    unit = (unit or "").strip()
    if not unit or len(unit) > UNIT_LENGTH:
        raise ValidationError(
            {"unit": "Give the unit as the lab reports it (at most 20 characters)."}
        )
    try:
        check_unit(analyte=analyte, unit=unit)
    except UnitError as exc:
        raise ValidationError({exc.field: str(exc)}) from None
    return unit


def _clean_reading(
    analyte: str, value: object, unit: str, interpretation: str
) -> tuple[Decimal | None, str, str]:
    """A measurement needs a value and its unit; a screening test needs its reading, and may
    carry a number (IGRA IU/mL, TST mm) with its unit."""
    interpretation = (interpretation or "").strip().lower()
    given = value is not None and str(value).strip() != ""
    if analyte not in QUALITATIVE:
        if interpretation:
            raise ValidationError(
                {"interpretation": f"{analyte} is a measurement: give its value, not a reading."}
            )
        if not given:
            raise ValidationError({"value": f"A {analyte} result needs a value."})
        return _clean_value(value), _clean_unit(analyte, unit), ""
    if interpretation not in Interpretation.values():
        raise ValidationError(
            {"interpretation": f"A {analyte} result needs its reading. {Interpretation.refusal()}"}
        )
    if not given:
        if (unit or "").strip():
            raise ValidationError({"value": "A unit was given without a value."})
        return None, "", interpretation
    return _clean_value(value), _clean_unit(analyte, unit), interpretation


def _phase(course: TherapyCourse, collected_on: date) -> Phase:
    """Which rules speak for a sample: by the day it was taken, not the day it is recorded."""
    if course.status == CourseStatus.PLANNED or collected_on < course.start_date:
        return Phase.BASELINE
    for pause in course.pauses.all():
        if pause.paused_on <= collected_on and (
            pause.resumed_on is None or collected_on < pause.resumed_on
        ):
            return Phase.PAUSED
    return Phase.TREATMENT


def _previous_in_unit(previous: LabResult | None, analyte: str, unit: str) -> Decimal | None:
    """The earlier value in this result's unit, or None when the two cannot be compared."""
    if previous is None or previous.value is None:
        return None
    if normalise_unit(previous.unit) == normalise_unit(unit):
        return previous.value
    try:
        return convert(analyte=analyte, value=previous.value, unit=previous.unit, to_unit=unit)
    except UnitError:
        return None


def earliest_sample(course: TherapyCourse) -> date:
    """The earliest day a sample still counts for this course: the protocol's baseline look-back
    before its start (an earlier date is a typing mistake that would evaluate a sample taken on
    treatment against the baseline rules)."""
    lookback = protocol_rules(protocol=course.patient.clinic.protocol).settings.baseline_lookback
    return lookback.before(course.start_date)


def lab_result_record(
    *,
    course: TherapyCourse,
    analyte: str,
    value: Decimal | str | float | None,
    unit: str,
    collected_on: date,
    interpretation: str = "",
    monitoring_check: MonitoringCheck | None = None,
    recorded_by: User | None = None,
    alert: bool = True,
) -> RecordedResult:
    """Store one result and evaluate it against the drug's and the protocol's thresholds.

    The outcome (none / advise / do_not_start / interrupt / discontinue, with each rule's text
    and source) is stored with the result; rules that compare use the previous result of the
    same analyte in this course. A screening test (TB, hepatitis, pregnancy) is read by its
    `interpretation` against the drug's screening rules; a reading they do not cover is
    reported as such, never as "none". The course itself is not changed: clinicians decide.
    Side effects: any outcome but none opens (or joins, for the same sample) a finding; one that
    alerts staff (interrupt, discontinue) is emailed to the clinic's staff after commit, unless
    `alert` is False (`check_complete` alerts once for all the results of a sample).
    """
    if analyte not in ANALYTES:
        raise ValidationError(
            {"analyte": f"Unknown analyte {analyte!r}; use one of: {', '.join(ANALYTES)}."}
        )
    number, unit, interpretation = _clean_reading(analyte, value, unit, interpretation)
    if monitoring_check is not None and monitoring_check.course_id != course.pk:
        raise ValidationError({"monitoring_check": "That check belongs to another course."})
    clinic = course.patient.clinic
    if course.status == CourseStatus.STOPPED and collected_on > (course.stopped_on or date.max):
        # A sample taken while on the drug is still evaluated after a stop (results pending).
        raise ValidationError(
            {
                "collected_on": f"The course was stopped on {course.stopped_on}; a sample "
                "taken after that is not evaluated against this drug's rules."
            }
        )
    if collected_on > clinic.today():
        raise ValidationError({"collected_on": "The collection date is in the future."})
    if collected_on < earliest_sample(course):
        raise ValidationError(
            {"collected_on": f"The course starts on {course.start_date}: check the date."}
        )
    with transaction.atomic():
        previous = (
            LabResult.objects.filter(course=course, analyte=analyte, collected_on__lte=collected_on)
            .order_by("-collected_on", "-id")
            .first()
        )
        previous_value = None if number is None else _previous_in_unit(previous, analyte, unit)
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
            interpretation=interpretation,
        )
        result = LabResult.objects.create(
            course=course,
            monitoring_check=monitoring_check,
            analyte=analyte,
            value=number,
            unit=unit,
            interpretation=interpretation,
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
            ],
        )
        finding = finding_for_result(result=result, outcome=outcome)
        if alert and finding is not None:
            finding_alert_queue(finding=finding)
    return RecordedResult(result=result, outcome=outcome)

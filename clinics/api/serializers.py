"""What the API reads and writes. Output serializers describe stored rows by their public UUIDs;
input serializers only check shapes and types: the rules (dates, doses, thresholds, lifecycle)
are the services' own, and their errors come back naming the same fields.

Each serializer names what it reads (`Serializer[Advice]`); an input-only one never reads an
object (`Serializer[None]`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from ..core.care import CareSummary, KindSummary
from ..core.planning import Advice, FactQuestion, PlannedCheck, RenalGap
from ..core.reconcile import CatchUp, DoneBefore
from ..core.ruleset import Dose, Indication, ScreeningRule, Threshold
from ..core.thresholds import Finding as RuleReached
from ..core.units import ANALYTES, QUALITATIVE
from ..core.vocab import (
    CLINICIAN_DECISIONS,
    STAFF_PAUSE_REASONS,
    CareState,
    CheckKind,
    ChildPugh,
    CourseCondition,
    FindingDecision,
    InfectionKind,
    InfectionOutcome,
    Interacting,
    Interpretation,
    MissingReason,
    RenalMeasure,
    Reporter,
    StopReason,
)
from ..feeds.tokens import feed_urls
from ..models import (
    CREATININE_UNITS,
    CalendarFeed,
    Clinic,
    Drug,
    Finding,
    InfectionReport,
    LabResult,
    Message,
    MonitoringCheck,
    Patient,
    TherapyCourse,
)
from ..permissions import clinics
from ..selectors.patients import patient_care_summary
from ..selectors.starts import BaselineFinding, StartableDrug, StartPreview
from ..selectors.worklists import ClinicCounts
from ..services.courses import CourseStarted
from ..services.results import RecordedResult

if TYPE_CHECKING:
    from rest_framework.validators import Validator


class ClinicSerializer(serializers.ModelSerializer[Clinic]):
    class Meta:
        model = Clinic
        fields = [
            "uuid",
            "name",
            "jurisdiction",
            "time_zone",
            "contact_email",
            "contact_phone",
            "test_location",
        ]


class ScopedClinicField(serializers.SlugRelatedField[Clinic]):
    """A clinic by UUID, among those the user belongs to (another clinic's is 'not found')."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(slug_field="uuid", **kwargs)

    def get_queryset(self) -> QuerySet[Clinic]:
        return clinics(self.context["request"].user)


class DrugField(serializers.SlugRelatedField[Drug]):
    """A drug by code. Text holding NUL is refused before the lookup: PostgreSQL cannot compare
    it (a database error, not a 400, otherwise)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(slug_field="code", queryset=Drug.objects.all(), **kwargs)

    def to_internal_value(self, data: Any) -> Drug:
        if isinstance(data, str) and "\x00" in data:
            self.fail("invalid")
        return super().to_internal_value(data)


def _seen_version(what: str) -> serializers.IntegerField:
    """The version of the `what` the client read: a write based on an older one answers 409
    (with the current version in the message); leave it out for an unconditional write."""
    return serializers.IntegerField(
        required=False,
        allow_null=True,
        default=None,
        help_text=f"The {what}'s version as read: a change to an older one answers 409",
    )


class PatientSerializer(serializers.ModelSerializer[Patient]):
    clinic: serializers.SlugRelatedField[Clinic] = ScopedClinicField()

    class Meta:
        model = Patient
        fields = [
            "uuid",
            "clinic",
            "mrn",
            "given_name",
            "family_name",
            "date_of_birth",
            "sex_at_birth",
            "weight_kg",
            "weight_on",
            "email",
            "time_zone",
            "reminder_consent",
            "reminder_consent_at",
            "created_at",
            "updated_at",
            "version",
        ]
        read_only_fields = ["reminder_consent_at", "created_at", "updated_at", "version"]
        # The (clinic, MRN) constraint is checked when saving (the error names "mrn").
        validators: list[Validator[dict[str, Any]]] = []


class CareKindSerializer(serializers.Serializer[KindSummary]):
    kind = serializers.CharField()
    last_done = serializers.DateField(allow_null=True)
    next_due = serializers.DateField(allow_null=True)
    state = serializers.ChoiceField(choices=CareState.choices(), allow_null=True)
    overdue_days = serializers.IntegerField()


class CareSummarySerializer(serializers.Serializer[CareSummary]):
    line = serializers.CharField(  # CareSummary.line(): DRF calls a method it is pointed at
        help_text="Per kind: last done, next due, overdue by N days"
    )
    kinds = CareKindSerializer(many=True, help_text="Most urgent first")


class PatientDetailSerializer(PatientSerializer):
    """A patient with the care summary of their open (else latest) course."""

    care_summary = serializers.SerializerMethodField()

    class Meta(PatientSerializer.Meta):
        fields = [*PatientSerializer.Meta.fields, "care_summary"]

    @extend_schema_field(CareSummarySerializer)
    def get_care_summary(self, patient: Patient) -> dict[str, Any]:
        return CareSummarySerializer(patient_care_summary(patient)).data


class PatientUpdateSerializer(PatientSerializer):
    """A change to a patient; send back the `version` you read (a change made from an older copy
    answers 409 with the current version, instead of overwriting a newer change)."""

    clinic = serializers.SlugRelatedField[Clinic](slug_field="uuid", read_only=True)
    version = _seen_version("patient")


class CourseSerializer(serializers.ModelSerializer[TherapyCourse]):
    patient = serializers.SlugRelatedField[Patient](slug_field="uuid", read_only=True)
    drug = serializers.SlugRelatedField[Drug](slug_field="code", read_only=True)
    # Declared: DRF drops allow_blank from read-only model fields, and these may be blank.
    stop_reason = serializers.ChoiceField(
        choices=StopReason.choices(), allow_blank=True, read_only=True
    )
    renal_measure = serializers.ChoiceField(
        choices=RenalMeasure.choices(), allow_blank=True, read_only=True
    )
    creatinine_unit = serializers.ChoiceField(
        choices=CREATININE_UNITS, allow_blank=True, read_only=True
    )
    child_pugh = serializers.ChoiceField(
        choices=ChildPugh.choices(), allow_blank=True, read_only=True
    )
    interacting = serializers.ListField(
        child=serializers.ChoiceField(choices=Interacting.choices()),
        allow_null=True,
        read_only=True,
        help_text="Interacting medicines recorded; null: not reviewed",
    )
    conditions = serializers.ListField(
        child=serializers.ChoiceField(choices=CourseCondition.choices()),
        allow_null=True,
        read_only=True,
        help_text="Renal and genotype conditions recorded; null: not reviewed",
    )

    class Meta:
        model = TherapyCourse
        fields = [
            "uuid",
            "patient",
            "drug",
            "dose_code",
            "indication",
            "start_date",
            "status",
            "status_changed_at",
            "stop_reason",
            "stop_note",
            "stopped_on",
            "version",
            "dose_stable_on",
            "renal_value",
            "renal_measure",
            "creatinine",
            "creatinine_unit",
            "child_pugh",
            "interacting",
            "conditions",
            "planned_until",
            "created_at",
        ]
        read_only_fields = fields


class AdviceSerializer(serializers.Serializer[Advice]):
    rule_id = serializers.CharField()
    text = serializers.CharField()
    # A field named "source": DRF's metaclass takes declared fields off the class, so it never
    # shadows `Field.source`; the stubs see the class attribute (a stubs gap, hence the ignore).
    source = serializers.CharField()  # type: ignore[assignment]
    verified = serializers.BooleanField()
    not_recommended = serializers.BooleanField()
    basis = serializers.CharField(help_text="How a value the rule needs was obtained, if estimated")


# A rule reached (`core.thresholds.Finding`), or one as `LabResult.outcome` keeps it (JSON). (A comment, not a docstring: the
# schema would show a docstring.)
class RuleReachedSerializer(serializers.Serializer[RuleReached | Mapping[str, object]]):
    rule_id = serializers.CharField()
    action = serializers.CharField()
    text = serializers.CharField()
    source = serializers.CharField()  # type: ignore[assignment]  # as in AdviceSerializer
    verified = serializers.BooleanField()
    confirm = serializers.BooleanField()


class CourseStartSerializer(serializers.Serializer[None]):
    drug = DrugField()
    dose_code = serializers.CharField(max_length=50)
    indication = serializers.CharField(max_length=50)
    start_date = serializers.DateField()
    renal_value = serializers.DecimalField(
        max_digits=6, decimal_places=1, required=False, allow_null=True, default=None
    )
    renal_measure = serializers.ChoiceField(
        choices=RenalMeasure.choices(), required=False, allow_blank=True, default=""
    )
    creatinine = serializers.DecimalField(
        max_digits=6,
        decimal_places=2,
        required=False,
        allow_null=True,
        default=None,
        help_text="Serum creatinine, to estimate creatinine clearance (Cockcroft-Gault)",
    )
    creatinine_unit = serializers.ChoiceField(
        choices=CREATININE_UNITS, required=False, allow_blank=True, default=""
    )
    child_pugh = serializers.ChoiceField(
        choices=ChildPugh.choices(),
        required=False,
        allow_blank=True,
        default="",
        help_text="Hepatic impairment; blank: not assessed",
    )
    interacting = serializers.ListField(
        child=serializers.ChoiceField(choices=Interacting.choices()),
        required=False,
        allow_null=True,
        default=None,
        help_text="Interacting medicines the patient takes; [] none; null: not reviewed",
    )
    conditions = serializers.ListField(
        child=serializers.ChoiceField(choices=CourseCondition.choices()),
        required=False,
        allow_null=True,
        default=None,
        help_text="ESRD, haemodialysis, renal transplant, genotype; [] none; null: not reviewed",
    )
    acknowledge_do_not_start = serializers.BooleanField(
        required=False,
        default=False,
        help_text="Start although a recent result reaches a do-not-start threshold (the "
        "prescriber has reviewed it); kept in the course history.",
    )
    done_elsewhere = serializers.DictField(
        child=serializers.DateField(),
        required=False,
        default=dict,
        help_text="A patient already on the drug: the day each kind of check (cbc, liver, ...) "
        "was last done. Planned checks missed since are caught up by one check per kind due now.",
    )


class DoseSerializer(serializers.Serializer[Dose]):
    code = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]  # as `source` in AdviceSerializer
    daily_mg = serializers.FloatField()
    indications = serializers.ListField(
        child=serializers.CharField(),
        allow_null=True,
        help_text="The indications the dose is labelled for (null: every indication)",
    )


class IndicationSerializer(serializers.Serializer[Indication]):
    code = serializers.CharField()
    name = serializers.CharField()


class StartableDrugSerializer(serializers.Serializer[StartableDrug]):
    """A drug the clinic may start (labelled in its jurisdiction), with its labelled doses: the
    values `start-course` takes for `drug`, `dose_code` and `indication`."""

    drug = serializers.CharField(source="drug.code")
    name = serializers.CharField(source="drug.name")
    doses = DoseSerializer(many=True)
    indications = IndicationSerializer(many=True)


class CourseStartedSerializer(serializers.Serializer[CourseStarted]):
    course = CourseSerializer()
    checks_planned = serializers.IntegerField()
    catch_ups = serializers.IntegerField(
        help_text="Catch-up checks due now for checks missed before the course was entered"
    )
    advice = AdviceSerializer(many=True)


class PlannedCheckSerializer(serializers.Serializer[PlannedCheck]):
    kind = serializers.ChoiceField(choices=CheckKind.choices())
    due = serializers.DateField()
    window_start = serializers.DateField()
    window_end = serializers.DateField()
    why = serializers.CharField()


class ThresholdSerializer(serializers.Serializer[Threshold | ScreeningRule]):
    """A do-not-start rule: a threshold (band and unit) or a screening reading."""

    rule_id = serializers.CharField(source="id")
    analyte = serializers.CharField()
    condition = serializers.CharField(help_text='When it applies: "< 500 cells/mm3", "positive"')
    band = serializers.CharField(source="band.describe", required=False)
    unit = serializers.CharField(required=False)
    text = serializers.CharField()
    source = serializers.CharField()  # type: ignore[assignment]  # as in AdviceSerializer
    verified = serializers.BooleanField()


class ResultOutcomeSerializer(serializers.Serializer[RecordedResult | BaselineFinding]):
    """A stored result with what its evaluation found (rule text and source)."""

    result = serializers.UUIDField(source="result.uuid")
    analyte = serializers.CharField(source="result.analyte")
    value = serializers.CharField(source="result.value_text")
    unit = serializers.CharField(source="result.unit")
    interpretation = serializers.CharField(source="result.interpretation")
    collected_on = serializers.DateField(source="result.collected_on")
    action = serializers.CharField(source="outcome.action")
    findings = RuleReachedSerializer(source="outcome.findings", many=True)


class CatchUpSerializer(serializers.Serializer[CatchUp]):
    kind = serializers.ChoiceField(choices=CheckKind.choices())
    missed = PlannedCheckSerializer(many=True)


class DoneElsewhereSerializer(serializers.Serializer[DoneBefore]):
    kind = serializers.ChoiceField(source="check.kind", choices=CheckKind.choices())
    done_on = serializers.DateField()
    check = PlannedCheckSerializer()


class RenalGapSerializer(serializers.Serializer[RenalGap]):
    measure = serializers.ChoiceField(choices=RenalMeasure.choices(), help_text="What to enter")
    given = serializers.ChoiceField(
        choices=RenalMeasure.choices(), allow_null=True, help_text="null: none was entered"
    )
    rule_ids = serializers.ListField(child=serializers.CharField())
    missing_for_estimate = serializers.ListField(
        child=serializers.CharField(),
        help_text="What a Cockcroft-Gault estimate of creatinine clearance still needs",
    )
    text = serializers.CharField()


class FactQuestionSerializer(serializers.Serializer[FactQuestion]):
    fact = serializers.ChoiceField(choices=["child_pugh", "interacting", "conditions"])
    options = serializers.ListField(
        child=serializers.CharField(), help_text="The codes the drug's rules give advice for"
    )
    rule_ids = serializers.ListField(child=serializers.CharField())
    text = serializers.CharField()


class StartPreviewSerializer(serializers.Serializer[StartPreview]):
    checks = PlannedCheckSerializer(many=True)
    advice = AdviceSerializer(many=True)
    renal_gaps = RenalGapSerializer(
        many=True, help_text="Renal advice that cannot be applied yet: enter this measure"
    )
    questions = FactQuestionSerializer(
        many=True, help_text="Facts the label's dose advice uses that were not recorded"
    )
    do_not_start_rules = ThresholdSerializer(many=True)
    findings = ResultOutcomeSerializer(many=True)
    catch_up = CatchUpSerializer(many=True, help_text="Due now: checks missed before enrolment")
    done_elsewhere = DoneElsewhereSerializer(many=True)
    unused_done_elsewhere = serializers.ListField(
        child=serializers.CharField(),
        help_text="Kinds whose last-done date is before every planned check (not used)",
    )


class PauseSerializer(serializers.Serializer[None]):
    reason = serializers.ChoiceField(
        choices=[(r.value, r.label) for r in STAFF_PAUSE_REASONS],
        help_text="For an infection, use report-infection: it alerts staff and the patient.",
    )
    paused_on = serializers.DateField(required=False, default=None)
    note = serializers.CharField(required=False, default="", allow_blank=True, max_length=2000)
    version = _seen_version("course")


class ResumeSerializer(serializers.Serializer[None]):
    resumed_on = serializers.DateField(required=False, default=None)
    version = _seen_version("course")


class DoseChangeSerializer(serializers.Serializer[None]):
    dose_code = serializers.CharField(max_length=50)
    effective_on = serializers.DateField(required=False, default=None)
    version = _seen_version("course")


class DoseStableSerializer(serializers.Serializer[None]):
    stable_on = serializers.DateField(required=False, default=None, help_text="Default: today")
    version = _seen_version("course")


class StopSerializer(serializers.Serializer[None]):
    reason = serializers.ChoiceField(choices=StopReason.choices())
    stopped_on = serializers.DateField(required=False, default=None)
    note = serializers.CharField(required=False, default="", allow_blank=True, max_length=2000)
    version = _seen_version("course")


class InfectionReportSerializer(serializers.ModelSerializer[InfectionReport]):
    course = serializers.SlugRelatedField[TherapyCourse](slug_field="uuid", read_only=True)
    # Blank on reports made before these were asked for (and `outcome` until resolved).
    kind = serializers.ChoiceField(
        choices=InfectionKind.choices(), allow_blank=True, read_only=True
    )
    outcome = serializers.ChoiceField(
        choices=InfectionOutcome.choices(), allow_blank=True, read_only=True
    )

    class Meta:
        model = InfectionReport
        fields = [
            "uuid",
            "course",
            "kind",
            "onset_on",
            "serious",
            "description",
            "reporter",
            "reported_at",
            "resolved_at",
            "outcome",
            "resolution_note",
        ]
        read_only_fields = fields


class InfectionReportCreateSerializer(serializers.Serializer[None]):
    kind = serializers.ChoiceField(choices=InfectionKind.choices())
    onset_on = serializers.DateField(help_text="The day the symptoms began")
    serious = serializers.BooleanField(help_text="Needing hospital care or intravenous antibiotics")
    description = serializers.CharField(
        required=False, default="", allow_blank=True, max_length=2000
    )
    reporter = serializers.ChoiceField(
        choices=[Reporter.STAFF.value, Reporter.SYSTEM.value],
        required=False,
        default=Reporter.SYSTEM.value,
    )
    reported_at = serializers.DateTimeField(required=False, default=None)


class InfectionResolveSerializer(serializers.Serializer[None]):
    outcome = serializers.ChoiceField(choices=InfectionOutcome.choices())
    note = serializers.CharField(
        required=False, default="", allow_blank=True, max_length=2000, help_text="Needed for other"
    )


class FindingSerializer(serializers.ModelSerializer[Finding]):
    """A finding with its results; `version` is what a decision must send back (409 if stale)."""

    course = serializers.SlugRelatedField[TherapyCourse](slug_field="uuid", read_only=True)
    monitoring_check = serializers.SlugRelatedField[MonitoringCheck](
        slug_field="uuid", read_only=True, allow_null=True
    )
    repeat_check = serializers.SlugRelatedField[MonitoringCheck](
        slug_field="uuid", read_only=True, allow_null=True
    )
    results = serializers.SlugRelatedField[LabResult](slug_field="uuid", many=True, read_only=True)
    decision = serializers.ChoiceField(
        choices=FindingDecision.choices(), allow_blank=True, read_only=True
    )

    class Meta:
        model = Finding
        fields = [
            "uuid",
            "course",
            "monitoring_check",
            "collected_on",
            "action",
            "confirm",
            "status",
            "results",
            "opened_at",
            "escalated_at",
            "decision",
            "decision_note",
            "decided_at",
            "repeat_check",
            "closed_at",
            "version",
        ]
        read_only_fields = fields


class FindingDecideSerializer(serializers.Serializer[None]):
    decision = serializers.ChoiceField(choices=[(d.value, d.label) for d in CLINICIAN_DECISIONS])
    note = serializers.CharField(
        required=False,
        default="",
        allow_blank=True,
        max_length=2000,
        help_text="Needed to continue",
    )
    version = _seen_version("finding")


class CheckSerializer(serializers.ModelSerializer[MonitoringCheck]):
    """A check of `CheckViewSet`'s queryset, which annotates its course's and patient's UUIDs
    (one row per check, no related objects to build: the list endpoint's hot path)."""

    course = serializers.UUIDField(source="course_uuid", read_only=True)
    patient = serializers.UUIDField(source="patient_uuid", read_only=True)

    class Meta:
        model = MonitoringCheck
        fields = [
            "uuid",
            "course",
            "patient",
            "kind",
            "due_date",
            "window_start",
            "window_end",
            "status",
            "origin",
            "why",
            "verified",
            "analytes",
            "instructions",
            "sequence",
            "sampled_on",
            "completed_on",
            "results_missing",
            "done_outside_window",
        ]
        read_only_fields = fields

    @classmethod
    def plain_columns(cls) -> dict[str, str]:
        """Each field and the column of the view's queryset it reads (for `json_values`)."""
        sources = {"course": "course_uuid", "patient": "patient_uuid"}
        return {name: sources.get(name, name) for name in cls.Meta.fields}


class ResultInputSerializer(serializers.Serializer[None]):
    """One result: a measurement's value and unit, or a screening test's reading (with its
    number, such as IGRA IU/mL or TST mm, when the lab gives one)."""

    analyte = serializers.ChoiceField(choices=ANALYTES)
    value = serializers.CharField(
        max_length=40,
        required=False,
        allow_blank=True,
        default="",
        help_text="A number, as the lab reports it (optional for a screening test)",
    )
    unit = serializers.CharField(max_length=20, required=False, allow_blank=True, default="")
    interpretation = serializers.ChoiceField(
        choices=Interpretation.choices(),
        required=False,
        allow_blank=True,
        default="",
        help_text=f"A screening test's reading ({', '.join(sorted(QUALITATIVE))}); "
        "empty for a measurement",
    )


class CheckSampleTakenSerializer(serializers.Serializer[None]):
    sampled_on = serializers.DateField(help_text="The day the sample was taken")


class CheckCompleteSerializer(serializers.Serializer[None]):
    completed_on = serializers.DateField(help_text="The day the sample was taken")
    results = ResultInputSerializer(many=True, required=False, default=list)
    missing = serializers.DictField(
        child=serializers.ChoiceField(choices=MissingReason.choices()),
        required=False,
        default=dict,
        help_text="Analyte: why it has no value (each analyte of the check needs a value or this)",
    )
    confirm_outside_window = serializers.BooleanField(
        default=False, help_text="Needed when completed_on is outside the check's window"
    )


# The check as stored now, with `check_complete`'s action and results.
class CheckCompletedSerializer(serializers.Serializer[Mapping[str, object]]):
    check = CheckSerializer()
    action = serializers.CharField(help_text="The most severe outcome among the results")
    results = ResultOutcomeSerializer(many=True)


class LabResultSerializer(serializers.ModelSerializer[LabResult]):
    course = serializers.SlugRelatedField[TherapyCourse](slug_field="uuid", read_only=True)
    check = serializers.UUIDField(source="monitoring_check.uuid", read_only=True, allow_null=True)
    value = serializers.CharField(source="value_text", read_only=True)
    interpretation = serializers.CharField(
        read_only=True, help_text="A screening test's reading; empty for a measurement"
    )
    outcome = RuleReachedSerializer(many=True, read_only=True)

    class Meta:
        model = LabResult
        fields = [
            "uuid",
            "course",
            "check",
            "analyte",
            "value",
            "unit",
            "interpretation",
            "collected_on",
            "recorded_at",
            "outcome_action",
            "outcome",
        ]
        read_only_fields = fields


class LabResultCreateSerializer(ResultInputSerializer):
    collected_on = serializers.DateField()
    check = serializers.UUIDField(
        required=False,
        allow_null=True,
        default=None,
        help_text="The planned check this result belongs to",
    )


class DrugSerializer(serializers.ModelSerializer[Drug]):
    version = serializers.IntegerField(source="current_version.version", read_only=True)

    class Meta:
        model = Drug
        fields = ["code", "name", "brands", "jurisdictions", "version"]
        read_only_fields = fields


class DrugRulesSerializer(DrugSerializer):
    rules = serializers.JSONField(
        source="current_version.document",
        read_only=True,
        help_text="The drug's rule file as loaded: every rule with its source and whether that "
        "source was verified",
    )

    class Meta(DrugSerializer.Meta):
        fields = [*DrugSerializer.Meta.fields, "rules"]
        read_only_fields = fields


class MessageSerializer(serializers.ModelSerializer[Message]):
    patient = serializers.SlugRelatedField[Patient](slug_field="uuid", read_only=True)
    course = serializers.SlugRelatedField[TherapyCourse](slug_field="uuid", read_only=True)

    class Meta:
        model = Message
        fields = [
            "uuid",
            "kind",
            "status",
            "recipient",
            "subject",
            "patient",
            "course",
            "safety",
            "send_after",
            "sent_at",
            "attempts",
            "failing_since",
            "last_error",
            "created_at",
        ]
        read_only_fields = fields


class CalendarLinkSerializer(serializers.Serializer[Mapping[str, object]]):
    web = serializers.CharField(help_text="https:// address (Google Calendar: From URL)")
    webcal = serializers.CharField(help_text="webcal:// address (Apple Calendar, Outlook)")
    created_at = serializers.DateTimeField()

    @staticmethod
    def of(feed: CalendarFeed) -> dict[str, object]:
        urls = feed_urls(feed)
        return {"web": urls.web, "webcal": urls.webcal, "created_at": feed.created_at}


class DashboardSerializer(serializers.Serializer[ClinicCounts]):
    clinic = serializers.UUIDField(source="clinic.uuid")
    name = serializers.CharField(source="clinic.name")
    findings = serializers.IntegerField(
        source="counts.findings", help_text="Findings awaiting a decision or a repeat result"
    )
    due_now = serializers.IntegerField(source="counts.due_now")
    due_this_week = serializers.IntegerField(
        source="counts.due_this_week", help_text="Coming up: due from tomorrow to six days on"
    )
    overdue = serializers.IntegerField(source="counts.overdue")
    results_pending = serializers.IntegerField(source="counts.results_pending")
    paused = serializers.IntegerField(source="counts.paused")
    no_next_check = serializers.IntegerField(source="counts.no_next_check")
    failed_messages = serializers.IntegerField(source="counts.failed_messages")
    failed_safety = serializers.IntegerField(
        source="counts.failed_safety", help_text="Failed safety messages (alerts): act first"
    )

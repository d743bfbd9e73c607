"""The clinic domain: clinics and their staff, patients, JAK-inhibitor courses, planned checks,
lab results and infection reports, plus the versioned drug rules and protocols they follow.

Models hold data and integrity constraints only; changes go through `clinics.services`.
Public identifiers are UUIDs; integer keys stay internal.
"""

import uuid
import zoneinfo
from datetime import date
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from simple_history.models import HistoricalRecords

from .core.dates import today_in
from .core.vocab import (
    CheckKind,
    CheckOrigin,
    CheckStatus,
    ChildPugh,
    CourseStatus,
    FindingDecision,
    FindingStatus,
    InfectionKind,
    InfectionOutcome,
    Interpretation,
    Jurisdiction,
    LinkPurpose,
    MessageKind,
    MessageStatus,
    OutcomeAction,
    PauseReason,
    RenalMeasure,
    Reporter,
    Role,
    RuleSetKind,
    SexAtBirth,
    StopReason,
)

CREATININE_UNITS = [("umol/L", "µmol/L"), ("mg/dL", "mg/dL")]
EARLIEST_BIRTH = date(1900, 1, 1)  # an earlier year is a typing mistake
VERSION_HELP = "Grows with every change: a write based on an older version is refused"


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(f"{value!r} is not an IANA time zone such as Europe/London.")


def validate_lead_days(value: object) -> None:
    if (
        not isinstance(value, list)
        or not value
        or not all(isinstance(d, int) and 0 <= d <= 60 for d in value)
    ):
        raise ValidationError("Give a list of whole days between 0 and 60, for example [7, 1].")


def default_lead_days() -> list[int]:
    return [7, 1]


def default_hold_text() -> str:
    return (
        "Please do not take your next dose until you have spoken to your clinic. "
        "Contact the clinic today, before your next dose."
    )


class RuleSetVersion(models.Model):
    """One loaded version of a drug rule file or protocol file; never changed once stored."""

    kind = models.CharField(max_length=10, choices=RuleSetKind.choices())
    code = models.CharField(max_length=50)
    version = models.PositiveIntegerField()
    checksum = models.CharField(max_length=64, help_text="SHA-256 of the file as loaded")
    source_path = models.CharField(max_length=300)
    document = models.JSONField(help_text="The validated rule document")
    loaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "code", "version"], name="ruleset_unique_version"
            ),
        ]
        ordering = ["kind", "code", "-version"]

    def __str__(self) -> str:
        return f"{self.code} rules v{self.version}"


class Protocol(models.Model):
    code = models.SlugField(max_length=50, unique=True)
    name = models.CharField(max_length=200)
    current_version = models.ForeignKey(RuleSetVersion, on_delete=models.PROTECT, related_name="+")

    def __str__(self) -> str:
        return self.name


class Drug(models.Model):
    code = models.SlugField(max_length=50, unique=True)
    name = models.CharField(max_length=100)
    brands = models.JSONField(default=list)
    jurisdictions = models.JSONField(default=list)
    current_version = models.ForeignKey(RuleSetVersion, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Clinic(models.Model):
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(max_length=200)
    time_zone = models.CharField(
        max_length=64, default="Europe/London", validators=[validate_time_zone]
    )
    jurisdiction = models.CharField(max_length=2, choices=Jurisdiction.choices())
    protocol = models.ForeignKey(Protocol, on_delete=models.PROTECT, related_name="clinics")
    contact_email = models.EmailField(blank=True)
    contact_phone = models.CharField(max_length=50, blank=True)
    test_location = models.TextField(
        blank=True, help_text="Where patients go for their blood tests (shown in reminders)"
    )
    reminder_lead_days = models.JSONField(
        default=default_lead_days,
        validators=[validate_lead_days],
        help_text="Days before a check's due date on which patients are reminded",
    )
    hold_text = models.TextField(
        default=default_hold_text,
        help_text="Approved text sent to a patient whose course is paused",
    )
    reminder_hour = models.PositiveSmallIntegerField(
        default=8,
        validators=[MaxValueValidator(23)],
        help_text="Local hour (patient's time zone) at which reminders go out",
    )
    calendar_details = models.BooleanField(
        default=False,
        help_text="Calendar feeds may name the medicine. Off: event titles and descriptions name "
        "only the test, never the drug, since calendars are often shared or shown on lock screens.",
    )
    calendar_alert_days = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        validators=[MaxValueValidator(14)],
        help_text="Days before a check on which the patient's calendar shows an alert, at the "
        "reminder hour (blank: no alert; many calendar apps ignore alerts in subscribed feeds)",
    )
    finding_escalation_days = models.PositiveSmallIntegerField(
        default=2,
        validators=[MaxValueValidator(10)],
        help_text="Working days a finding may wait for a decision before staff are alerted again",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(reminder_hour__lte=23), name="clinic_reminder_hour_range"
            ),
        ]
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def today(self) -> date:
        """The date now in the clinic's time zone: due dates are clinic-local calendar days."""
        return today_in(self.time_zone)


class StaffMembership(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    clinic = models.ForeignKey(Clinic, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=20, choices=Role.choices())

    history = HistoricalRecords()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "clinic"], name="membership_unique")]

    def __str__(self) -> str:
        return f"{self.user} ({self.get_role_display()}, {self.clinic})"


class Patient(models.Model):
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="patients")
    mrn = models.CharField("MRN", max_length=50)
    given_name = models.CharField(max_length=100)
    family_name = models.CharField(max_length=100)
    date_of_birth = models.DateField()
    sex_at_birth = models.CharField(
        max_length=10,
        choices=SexAtBirth.choices(),
        default=SexAtBirth.UNKNOWN,
        help_text="Used only by rules that need it (pregnancy testing)",
    )
    reproductive_potential = models.BooleanField(
        "of reproductive potential",
        null=True,
        blank=True,
        help_text="Pregnancy tests and contraception advice. Unknown: female at birth and of the "
        "clinic protocol's age range (12 to 55 by default)",
    )
    weight_kg = models.DecimalField(
        "weight (kg)",
        max_digits=5,
        decimal_places=1,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("1")), MaxValueValidator(Decimal("400"))],
        help_text="Used to estimate creatinine clearance (Cockcroft-Gault) for renal dose advice",
    )
    weight_on = models.DateField("weighed on", null=True, blank=True)
    email = models.EmailField(blank=True)
    time_zone = models.CharField(
        max_length=64, blank=True, validators=[validate_time_zone], help_text="Blank: the clinic's"
    )
    reminder_consent = models.BooleanField(default=False)
    reminder_consent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    version = models.PositiveIntegerField(default=1, editable=False, help_text=VERSION_HELP)

    history = HistoricalRecords()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["clinic", "mrn"], name="patient_mrn_unique_in_clinic")
        ]
        ordering = ["family_name", "given_name"]

    def __str__(self) -> str:
        return f"{self.mrn} {self.initials}"

    @property
    def initials(self) -> str:
        return f"{self.given_name[:1]}{self.family_name[:1]}".upper()

    def age_on(self, day: date) -> int:
        dob = self.date_of_birth
        return day.year - dob.year - ((day.month, day.day) < (dob.month, dob.day))

    def clean(self) -> None:
        today = self.clinic.today() if self.clinic_id else today_in("UTC")
        if self.date_of_birth and self.date_of_birth > today:
            raise ValidationError({"date_of_birth": "The date of birth is in the future."})
        if self.date_of_birth and self.date_of_birth < EARLIEST_BIRTH:
            raise ValidationError({"date_of_birth": f"Give a date from {EARLIEST_BIRTH} on."})
        if (self.weight_kg is None) != (self.weight_on is None):
            raise ValidationError(
                {"weight_on": "Give the weight together with the day it was taken."}
            )
        if self.weight_on and self.weight_on > today:
            raise ValidationError({"weight_on": "The day of weighing is in the future."})


class TherapyCourse(models.Model):
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="courses")
    drug = models.ForeignKey(Drug, on_delete=models.PROTECT, related_name="courses")
    rules_version = models.ForeignKey(
        RuleSetVersion,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="Drug rules last planned with",
    )
    dose_code = models.CharField(max_length=50)
    indication = models.CharField(max_length=50)
    start_date = models.DateField()
    status = models.CharField(
        max_length=10, choices=CourseStatus.choices(), default=CourseStatus.PLANNED
    )
    status_changed_at = models.DateTimeField()
    stop_reason = models.CharField(max_length=20, choices=StopReason.choices(), blank=True)
    stop_note = models.TextField(blank=True)
    stopped_on = models.DateField(null=True, blank=True)
    planned_until = models.DateField(
        null=True, blank=True, help_text="End of the horizon last planned to"
    )
    renal_value = models.DecimalField(max_digits=6, decimal_places=1, null=True, blank=True)
    renal_measure = models.CharField(max_length=25, choices=RenalMeasure.choices(), blank=True)
    dose_stable_on = models.DateField(
        null=True,
        blank=True,
        help_text="A clinician marked the dose stable: ends an until-stable phase (ruxolitinib)",
    )
    creatinine = models.DecimalField(
        "serum creatinine", max_digits=6, decimal_places=2, null=True, blank=True
    )
    creatinine_unit = models.CharField(max_length=10, choices=CREATININE_UNITS, blank=True)
    child_pugh = models.CharField(
        max_length=1, choices=ChildPugh.choices(), blank=True, help_text="Blank: not assessed"
    )
    interacting = models.JSONField(
        null=True, blank=True, help_text="Interacting medicines (codes); null: not reviewed"
    )
    conditions = models.JSONField(
        null=True,
        blank=True,
        help_text="ESRD, dialysis, transplant, genotype (codes); null: not reviewed",
    )
    version = models.PositiveIntegerField(default=1, editable=False, help_text=VERSION_HELP)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    history = HistoricalRecords()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(status=CourseStatus.STOPPED) | Q(stop_reason=""),
                name="course_stop_reason_only_when_stopped",
            ),
            models.CheckConstraint(
                condition=~Q(status=CourseStatus.STOPPED) | Q(stopped_on__isnull=False),
                name="course_stopped_has_date",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "drug"]),
            models.Index(fields=["status", "planned_until"]),
        ]
        ordering = ["-start_date"]

    def __str__(self) -> str:
        return f"{self.drug} for {self.patient} from {self.start_date}"


class CoursePause(models.Model):
    """A time off the drug. Planning counts time on the drug, so each pause shifts later checks."""

    course = models.ForeignKey(TherapyCourse, on_delete=models.CASCADE, related_name="pauses")
    paused_on = models.DateField()
    resumed_on = models.DateField(null=True, blank=True)
    reason = models.CharField(max_length=20, choices=PauseReason.choices())
    note = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["course"],
                condition=Q(resumed_on__isnull=True),
                name="one_open_pause_per_course",
            ),
            models.CheckConstraint(
                condition=Q(resumed_on__isnull=True) | Q(resumed_on__gte=models.F("paused_on")),
                name="pause_resumes_after_start",
            ),
        ]
        ordering = ["paused_on"]

    def __str__(self) -> str:
        until = f" to {self.resumed_on}" if self.resumed_on else ""
        return f"Off the drug from {self.paused_on}{until} ({self.get_reason_display()})"


class DoseChange(models.Model):
    course = models.ForeignKey(TherapyCourse, on_delete=models.CASCADE, related_name="dose_changes")
    from_dose = models.CharField(max_length=50)
    to_dose = models.CharField(max_length=50)
    effective_on = models.DateField()
    is_increase = models.BooleanField()
    changed_at = models.DateTimeField(auto_now_add=True)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    history = HistoricalRecords()

    class Meta:
        ordering = ["effective_on", "id"]

    def __str__(self) -> str:
        return f"Dose {self.from_dose} to {self.to_dose} from {self.effective_on}"


class MonitoringCheck(models.Model):
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    course = models.ForeignKey(TherapyCourse, on_delete=models.CASCADE, related_name="checks")
    kind = models.CharField(max_length=30, choices=CheckKind.choices())
    plan_key = models.CharField(
        max_length=120, help_text="Stable key: the same check across re-plans"
    )
    due_date = models.DateField()
    window_start = models.DateField()
    window_end = models.DateField()
    status = models.CharField(
        max_length=10, choices=CheckStatus.choices(), default=CheckStatus.SCHEDULED
    )
    origin = models.CharField(
        max_length=10, choices=CheckOrigin.choices(), default=CheckOrigin.PLAN
    )
    rule_ids = models.JSONField(default=list)
    why = models.TextField(
        help_text="Each rule that asks for this check, its anchor and its source"
    )
    verified = models.BooleanField(help_text="False if any rule behind the check is unverified")
    analytes = models.JSONField(default=list)
    instructions = models.TextField(blank=True)
    rules_version = models.ForeignKey(RuleSetVersion, on_delete=models.PROTECT, related_name="+")
    sequence = models.PositiveIntegerField(
        default=0, help_text="Grows whenever dates or status change"
    )
    sampled_on = models.DateField(
        null=True, blank=True, help_text="Sample taken on this day; its results are awaited"
    )
    completed_on = models.DateField(null=True, blank=True)
    results_missing = models.JSONField(
        default=dict, blank=True, help_text="Analyte: why it has no value (recorded when done)"
    )
    done_outside_window = models.BooleanField(
        default=False, help_text="Recorded as done on a day outside its window (confirmed)"
    )
    completed_at = models.DateTimeField(null=True, blank=True)
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["course", "plan_key"], name="check_unique_plan_key"),
            models.CheckConstraint(
                condition=Q(window_start__lte=models.F("due_date"))
                & Q(due_date__lte=models.F("window_end")),
                name="check_due_inside_window",
            ),
            models.CheckConstraint(
                condition=~Q(status=CheckStatus.DONE) | Q(completed_on__isnull=False),
                name="check_done_has_date",
            ),
            models.CheckConstraint(
                condition=~Q(status=CheckStatus.PENDING) | Q(sampled_on__isnull=False),
                name="check_pending_has_sample_date",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "due_date"]),
            models.Index(fields=["status", "window_end"]),
            models.Index(fields=["due_date", "id"]),  # the API's checks list, by due date
        ]
        ordering = ["due_date", "kind"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} due {self.due_date}"


class InfectionReport(models.Model):
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    course = models.ForeignKey(TherapyCourse, on_delete=models.PROTECT, related_name="infections")
    kind = models.CharField(max_length=20, choices=InfectionKind.choices(), blank=True)
    onset_on = models.DateField(null=True, blank=True, help_text="The day the symptoms began")
    serious = models.BooleanField()
    description = models.TextField(blank=True)
    reporter = models.CharField(max_length=10, choices=Reporter.choices())
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    reported_at = models.DateTimeField()
    pause = models.ForeignKey(
        CoursePause, on_delete=models.PROTECT, null=True, blank=True, related_name="infections"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    outcome = models.CharField(max_length=20, choices=InfectionOutcome.choices(), blank=True)
    resolution_note = models.TextField(blank=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["-reported_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(resolved_at__isnull=True) | Q(resolved_at__gte=models.F("reported_at")),
                name="infection_resolved_after_report",
            ),
        ]

    def __str__(self) -> str:
        what = self.get_kind_display() if self.kind else "Infection"
        serious = ", serious" if self.serious else ""
        since = f" since {self.onset_on}" if self.onset_on else ", start not given"
        reported = today_in(self.course.patient.clinic.time_zone, self.reported_at)
        return f"{what}{serious}{since} (reported {reported})"


class LabResult(models.Model):
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    course = models.ForeignKey(TherapyCourse, on_delete=models.PROTECT, related_name="results")
    monitoring_check = models.ForeignKey(
        MonitoringCheck, on_delete=models.SET_NULL, null=True, blank=True, related_name="results"
    )
    analyte = models.CharField(max_length=30)
    value = models.DecimalField(
        max_digits=12,
        decimal_places=4,
        null=True,
        blank=True,
        help_text="Empty for a screening test read only as positive, negative, ...",
    )
    unit = models.CharField(max_length=20, blank=True)
    interpretation = models.CharField(
        max_length=15,
        choices=Interpretation.choices(),
        blank=True,
        help_text="A screening test's reading (TB, hepatitis, pregnancy); empty for a measurement",
    )
    collected_on = models.DateField()
    recorded_at = models.DateTimeField(auto_now_add=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    outcome_action = models.CharField(
        max_length=20, choices=OutcomeAction.choices(), default=OutcomeAction.NONE
    )
    outcome = models.JSONField(default=list, help_text="Rules reached: id, action, text, source")
    finding = models.ForeignKey(
        "Finding", on_delete=models.PROTECT, null=True, blank=True, related_name="results"
    )

    history = HistoricalRecords()

    class Meta:
        ordering = ["-collected_on", "-id"]
        indexes = [models.Index(fields=["course", "analyte", "collected_on"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(value__isnull=False) | ~Q(interpretation=""),
                name="lab_result_has_value_or_reading",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.analyte} {self.reading} on {self.collected_on}"

    @property
    def value_text(self) -> str:
        """The value as the lab wrote it: no trailing zeros, never an exponent (400, not 4E+2)."""
        return "" if self.value is None else f"{self.value.normalize():f}"

    @property
    def reading(self) -> str:
        """What the lab reported, as staff read it: "1.2 10^9/L", "positive", "positive, 0.52
        IU/mL"."""
        measured = f"{self.value_text} {self.unit}".strip()
        parts = [self.get_interpretation_display().lower() if self.interpretation else "", measured]
        return ", ".join(p for p in parts if p)


class Finding(models.Model):
    """Results of one sample that reached a threshold: open until a clinician decides (pause,
    repeat test, continue with a reason, stop). A repeat test keeps it on the list until its
    result is recorded."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    course = models.ForeignKey(TherapyCourse, on_delete=models.PROTECT, related_name="findings")
    monitoring_check = models.ForeignKey(
        MonitoringCheck, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    collected_on = models.DateField()
    action = models.CharField(max_length=20, choices=OutcomeAction.choices())
    confirm = models.BooleanField(
        default=False, help_text="A rule reached asks for confirmation by repeat testing"
    )
    status = models.CharField(
        max_length=20, choices=FindingStatus.choices(), default=FindingStatus.OPEN
    )
    opened_at = models.DateTimeField()
    escalated_at = models.DateTimeField(null=True, blank=True)
    decision = models.CharField(max_length=20, choices=FindingDecision.choices(), blank=True)
    decision_note = models.TextField(blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    repeat_check = models.OneToOneField(
        MonitoringCheck,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="repeat_of",
    )
    closed_at = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1, editable=False, help_text=VERSION_HELP)

    history = HistoricalRecords()

    class Meta:
        ordering = ["opened_at", "id"]
        indexes = [models.Index(fields=["status", "opened_at"])]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status=FindingStatus.CLOSED) | Q(closed_at__isnull=False),
                name="finding_closed_has_time",
            ),
            models.CheckConstraint(
                condition=Q(status=FindingStatus.OPEN) | ~Q(decision=""),
                name="finding_decided_has_decision",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_action_display()} on {self.collected_on} ({self.get_status_display()})"


class Message(models.Model):
    """One outgoing email (the outbox). Written in the transaction that causes it, sent by a
    worker; the unique dedupe key makes every send effectively once."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    clinic = models.ForeignKey(Clinic, on_delete=models.CASCADE, related_name="messages")
    patient = models.ForeignKey(
        Patient, on_delete=models.CASCADE, null=True, blank=True, related_name="messages"
    )
    course = models.ForeignKey(
        TherapyCourse, on_delete=models.CASCADE, null=True, blank=True, related_name="messages"
    )
    checks = models.ManyToManyField(MonitoringCheck, blank=True, related_name="messages")
    recipient = models.EmailField()
    kind = models.CharField(max_length=30, choices=MessageKind.choices())
    subject = models.CharField(max_length=200)
    context = models.JSONField(
        default=dict, blank=True, help_text="What the message is about (ids, dates)"
    )
    dedupe_key = models.CharField(max_length=200, unique=True)
    status = models.CharField(
        max_length=10, choices=MessageStatus.choices(), default=MessageStatus.QUEUED
    )
    send_after = models.DateTimeField()
    lease_until = models.DateTimeField(null=True, blank=True)
    claim = models.UUIDField(
        null=True, blank=True, help_text="The one send task allowed to send it now"
    )
    safety = models.BooleanField(
        default=False, help_text="Safety news: sent ahead of reminders and digests"
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    failing_since = models.DateTimeField(
        null=True, blank=True, help_text="First of the transient failures now being retried"
    )
    last_error = models.TextField(blank=True)
    message_id = models.CharField(max_length=200, help_text="Email Message-ID, generated once")
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        # Partial indexes over the few rows still to send (or failed, for staff): a sent row,
        # the table's bulk, is in none of them, and a claim reads its batch in send order
        # straight off an index whatever the size of the queue.
        indexes = [
            models.Index(
                F("safety").desc(),
                "send_after",
                "id",
                condition=Q(status=MessageStatus.QUEUED),
                name="message_queued_send_order",
            ),
            models.Index(
                fields=["lease_until"],
                condition=Q(status=MessageStatus.SENDING),
                name="message_sending_lease",
            ),
            models.Index(
                fields=["clinic", "-safety", "-created_at"],
                condition=Q(status=MessageStatus.FAILED),
                name="message_failed",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} to {self.recipient} ({self.status})"


class LinkToken(models.Model):
    """A secret link in an email (unsubscribe, report an infection). Only its SHA-256 is stored,
    so a copy of the database gives no usable links; deleting the row revokes the link."""

    digest = models.CharField(max_length=64, unique=True)
    purpose = models.CharField(max_length=20, choices=LinkPurpose.choices())
    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="link_tokens")
    course = models.ForeignKey(
        TherapyCourse, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.get_purpose_display()} link for {self.patient}"


class CalendarFeed(models.Model):
    """A secret calendar subscription: one patient's checks, or the checks of a staff member's
    clinics. The URL carries `key` plus an HMAC of it under SECRET_KEY; only the key is stored, so
    a copy of the database gives no usable URL. Rotating revokes the row and makes a new one."""

    key = models.CharField(max_length=32, unique=True, help_text="128 random bits, hex")
    patient = models.ForeignKey(
        Patient, on_delete=models.CASCADE, null=True, blank=True, related_name="calendar_feeds"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="calendar_feeds",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)
    # The feed's current ETag and when the server first served it (its Last-Modified).
    seen_etag = models.CharField(max_length=40, blank=True, editable=False)
    seen_at = models.DateTimeField(null=True, blank=True, editable=False)

    history = HistoricalRecords()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(patient__isnull=False, user__isnull=True)
                | Q(patient__isnull=True, user__isnull=False),
                name="calendar_feed_one_owner",
            ),
            models.UniqueConstraint(
                fields=["patient"],
                condition=Q(revoked_at__isnull=True, patient__isnull=False),
                name="one_live_feed_per_patient",
            ),
            models.UniqueConstraint(
                fields=["user"],
                condition=Q(revoked_at__isnull=True, user__isnull=False),
                name="one_live_feed_per_user",
            ),
        ]
        ordering = ["-created_at"]

    def __str__(self) -> str:
        owner = self.patient or self.user
        state = "revoked" if self.revoked_at else "live"
        return f"Calendar feed of {owner} ({state})"


# Worklists: the same rows, each list with its own admin page (clinics.selectors says which).
class DueNowCheck(MonitoringCheck):
    class Meta:
        proxy = True
        verbose_name = "check due now"
        verbose_name_plural = "Worklist: due now"


class ResultsPendingCheck(MonitoringCheck):
    class Meta:
        proxy = True
        verbose_name = "check with results pending"
        verbose_name_plural = "Worklist: results pending"


class DueThisWeekCheck(MonitoringCheck):
    class Meta:
        proxy = True
        verbose_name = "check coming up this week"
        verbose_name_plural = "Worklist: coming up this week"


class OverdueCheck(MonitoringCheck):
    class Meta:
        proxy = True
        verbose_name = "overdue check"
        verbose_name_plural = "Worklist: overdue checks"


class PausedCourse(TherapyCourse):
    class Meta:
        proxy = True
        verbose_name = "paused course"
        verbose_name_plural = "Worklist: paused courses awaiting review"


class CourseWithoutNextCheck(TherapyCourse):
    class Meta:
        proxy = True
        verbose_name = "course with no next check"
        verbose_name_plural = "Worklist: courses with no next check"


class OpenFinding(Finding):
    class Meta:
        proxy = True
        verbose_name = "open finding"
        verbose_name_plural = "Worklist: findings awaiting a decision"


class FailedMessage(Message):
    class Meta:
        proxy = True
        verbose_name = "failed message"
        verbose_name_plural = "Worklist: failed messages"


class IdempotentRequest(models.Model):
    """An API POST sent with an `Idempotency-Key` header, and the answer it got: the same key
    from the same user replays that answer instead of doing the work again (a retried
    infection report is the same report)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64, help_text="SHA-256 of method, path and body")
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    response = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="idempotency_key_once_per_user")
        ]
        indexes = [models.Index(fields=["created_at"])]

    def __str__(self) -> str:
        return f"Idempotency key {self.key[:12]}… ({self.status_code or 'in progress'})"

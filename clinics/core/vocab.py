"""Every code list of the domain, once: check kinds, check and course statuses with the transitions
they allow and their named sets, jurisdictions, renal measures, rule and outcome actions (with
their severity, and whether they alert staff), and the other codes rows and messages carry.

Models take their `choices` from here, rule files are validated against these members, and the
planner, the thresholds and the API compare with them. Pure Python: no Django models, no settings.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Self

from django.core.exceptions import ValidationError


class Codes(StrEnum):
    """A code list: each member is its code (stored, sent, compared as text) and has a label."""

    _value_: str
    label: str

    def __new__(cls, value: str, label: str = "") -> Self:
        member = str.__new__(cls, value)
        member._value_ = value
        member.label = label or value
        return member

    @classmethod
    def choices(cls) -> list[tuple[str, str]]:
        """(code, label) pairs, for model fields and forms."""
        return [(m.value, m.label) for m in cls]

    @classmethod
    def values(cls) -> list[str]:
        return [m.value for m in cls]

    @classmethod
    def refusal(cls) -> str:
        """The error for a value outside the list."""
        return f"Choose one of: {', '.join(cls.values())}."


class CheckKind(Codes):
    CBC = "cbc", "Full blood count"
    LIVER = "liver", "Liver function"
    LIPIDS = "lipids", "Lipid panel"
    RENAL = "renal", "Renal function"
    TB = "tb", "Tuberculosis screening"
    HEPATITIS = "hepatitis", "Hepatitis B and C screening"
    ZOSTER_VACCINATION = "zoster_vaccination", "Zoster vaccination status"
    PREGNANCY = "pregnancy", "Pregnancy test"
    SKIN_EXAM = "skin_exam", "Skin examination"


# Checks done from one blood sample: when their windows overlap they share a due date.
BLOOD_DRAW_KINDS = frozenset({CheckKind.CBC, CheckKind.LIVER, CheckKind.LIPIDS, CheckKind.RENAL})


class Jurisdiction(Codes):
    US = "US", "United States (FDA label)"
    EU = "EU", "European Union (EMA SmPC)"
    UK = "UK", "United Kingdom (MHRA SmPC)"


class RenalMeasure(Codes):
    """One code per measure: the labels' "CLcr" and "CrCl" are both creatinine clearance by
    Cockcroft-Gault."""

    CRCL = "crcl", "Creatinine clearance (Cockcroft-Gault), mL/min"
    EGFR = "egfr", "eGFR, mL/min/1.73m²"


class ChildPugh(Codes):
    """Hepatic impairment by Child-Pugh class, as the labels' dose advice uses it."""

    A = "A", "Child-Pugh A (mild)"
    B = "B", "Child-Pugh B (moderate)"
    C = "C", "Child-Pugh C (severe)"


class Interacting(Codes):
    """Kinds of interacting medicine the labels give dose advice for (the drug files say which
    apply to each drug, and cite the label)."""

    STRONG_CYP3A4_INHIBITOR = "strong_cyp3a4_inhibitor", "Strong CYP3A4 inhibitor"
    MODERATE_CYP3A4_STRONG_CYP2C19_INHIBITOR = (
        "moderate_cyp3a4_strong_cyp2c19_inhibitor",
        "Moderate CYP3A4 and strong CYP2C19 inhibition (e.g. fluconazole)",
    )
    STRONG_CYP2C19_INHIBITOR = "strong_cyp2c19_inhibitor", "Strong CYP2C19 inhibitor"
    CYP2C19_CYP2C9_INDUCER = (
        "cyp2c19_cyp2c9_inducer",
        "Moderate or strong CYP2C19 or CYP2C9 inducer",
    )
    CYP2C9_INHIBITOR = "cyp2c9_inhibitor", "CYP2C9 inhibitor"
    STRONG_OAT3_INHIBITOR = "strong_oat3_inhibitor", "Strong OAT3 inhibitor (e.g. probenecid)"


class CourseCondition(Codes):
    """Patient conditions the labels' dose advice names that no lab value expresses."""

    ESRD = "esrd", "End-stage renal disease"
    HAEMODIALYSIS = "haemodialysis", "On haemodialysis"
    RENAL_TRANSPLANT = "renal_transplant", "Renal transplant"
    CYP2C9_POOR_METABOLISER = "cyp2c9_poor_metaboliser", "CYP2C9 poor metaboliser (genotype)"
    CYP2C19_POOR_METABOLISER = "cyp2c19_poor_metaboliser", "CYP2C19 poor metaboliser (genotype)"


class SexAtBirth(Codes):
    FEMALE = "female", "Female"
    MALE = "male", "Male"
    UNKNOWN = "unknown", "Not recorded"


class Interpretation(Codes):
    """A screening result as the lab reports it (TB, hepatitis serology, pregnancy test)."""

    POSITIVE = "positive", "Positive"
    NEGATIVE = "negative", "Negative"
    INDETERMINATE = "indeterminate", "Indeterminate"
    BORDERLINE = "borderline", "Borderline"


class RuleAction(Codes):
    """What a threshold rule in a drug's file says to do."""

    DO_NOT_START = "do_not_start", "Do not start"
    INTERRUPT = "interrupt", "Interrupt"
    DISCONTINUE = "discontinue", "Discontinue"
    RESUME = "resume", "Resume"
    ADVISE = "advise", "Advice"


class OutcomeAction(Codes):
    """The evaluation of one result: the most severe action its rules reached."""

    NONE = "none", "No threshold reached"
    ADVISE = "advise", "Advice"
    DO_NOT_START = "do_not_start", "Do not start"
    INTERRUPT = "interrupt", "Interrupt"
    DISCONTINUE = "discontinue", "Discontinue"

    @property
    def severity(self) -> int:
        return list(OutcomeAction).index(self)

    @property
    def alerts_staff(self) -> bool:
        """An interrupt or discontinue outcome alerts the clinic's staff at once."""
        return self in (OutcomeAction.INTERRUPT, OutcomeAction.DISCONTINUE)

    @property
    def opens_finding(self) -> bool:
        """Every outcome but none opens a finding that stays open until a clinician decides."""
        return self != OutcomeAction.NONE

    @classmethod
    def of_rule(cls, action: RuleAction) -> OutcomeAction:
        """A resume rule only advises: clinicians decide when to restart."""
        return cls.ADVISE if action == RuleAction.RESUME else cls(action.value)


class Phase(Codes):
    """Where a sample falls in a course, which decides the rules that speak for it."""

    BASELINE = "baseline", "Before the first dose"
    TREATMENT = "treatment", "On treatment"
    PAUSED = "paused", "Paused"


class CourseStatus(Codes):
    PLANNED = "planned", "Planned"
    ACTIVE = "active", "Active"
    PAUSED = "paused", "Paused"
    STOPPED = "stopped", "Stopped"


OPEN_COURSES = frozenset({CourseStatus.PLANNED, CourseStatus.ACTIVE, CourseStatus.PAUSED})


class CheckStatus(Codes):
    SCHEDULED = "scheduled", "Scheduled"
    OVERDUE = "overdue", "Overdue"
    ON_HOLD = "on_hold", "On hold (course paused)"
    PENDING = "pending", "Sample taken, results pending"
    DONE = "done", "Done"
    CANCELLED = "cancelled", "Cancelled"
    # Its window closed before the course was entered (or planned) and it was not done: a
    # catch-up check asks for it now.
    MISSED = "missed", "Missed (caught up by a catch-up check)"


# Open: not done and still wanted (on hold while the course is paused). To do: open and not on hold.
# Settled: the plan no longer moves or cancels them (done, or sampled with results to come).
OPEN_CHECKS = frozenset({CheckStatus.SCHEDULED, CheckStatus.OVERDUE, CheckStatus.ON_HOLD})
TO_DO_CHECKS = frozenset({CheckStatus.SCHEDULED, CheckStatus.OVERDUE})
SETTLED_CHECKS = frozenset({CheckStatus.PENDING, CheckStatus.DONE})


class InfectionKind(Codes):
    """What kind of infection a report is about (herpes zoster is a class risk of JAK
    inhibitors: it has its own code)."""

    HERPES_ZOSTER = "herpes_zoster", "Shingles (herpes zoster)"
    RESPIRATORY = "respiratory", "Chest, throat or sinus (respiratory)"
    URINARY = "urinary", "Bladder or kidney (urinary)"
    SKIN = "skin", "Skin or soft tissue"
    OTHER = "other", "Other"


class InfectionOutcome(Codes):
    RECOVERED = "recovered", "Recovered"
    RECOVERED_HOSPITAL = "recovered_hospital", "Recovered after hospital care"
    ONGOING_ELSEWHERE = "ongoing_elsewhere", "Still treated elsewhere (no longer followed here)"
    OTHER = "other", "Other (see the note)"


class MissingReason(Codes):
    """Why a check was recorded as done without a value for one of its analytes."""

    NOT_DONE = "not_done", "Not done"
    SAMPLE_LOST = "sample_lost", "Sample lost"
    DONE_ELSEWHERE = "done_elsewhere", "Done elsewhere (result not available)"


class CheckOrigin(Codes):
    """Why a check exists: the drug's plan, a repeat test a clinician ordered from a finding, or
    a catch-up for planned checks whose windows closed before they were planned. Re-planning
    moves and cancels only planned checks."""

    PLAN = "plan", "Planned"
    REPEAT = "repeat", "Repeat test (ordered from a finding)"
    CATCH_UP = "catch_up", "Catch-up (missed before it was planned)"


class FindingStatus(Codes):
    """A finding is open until a clinician decides; a repeat test ordered keeps it on the list
    until the repeat's result is recorded."""

    OPEN = "open", "Open: needs a decision"
    REPEAT_ORDERED = "repeat_ordered", "Repeat test ordered"
    CLOSED = "closed", "Closed"


UNDECIDED_FINDINGS = frozenset({FindingStatus.OPEN, FindingStatus.REPEAT_ORDERED})


class FindingDecision(Codes):
    PAUSE = "pause", "Pause the course"
    REPEAT = "repeat", "Order a repeat test"
    CONTINUE = "continue", "Continue (reason written)"
    STOP = "stop", "Stop the course"
    REPEAT_RESULT = "repeat_result", "Repeat result recorded"


# What a clinician chooses; a repeat result closes a finding by itself.
CLINICIAN_DECISIONS = (
    FindingDecision.PAUSE,
    FindingDecision.REPEAT,
    FindingDecision.CONTINUE,
    FindingDecision.STOP,
)


class CareState(Codes):
    """Where an open check stands for the staff who act on it: each open check is in exactly one
    (`clinics.core.care.care_state`), and each state but upcoming has its worklist."""

    UPCOMING = "upcoming", "Upcoming"
    DUE_NOW = "due_now", "Due now"
    OVERDUE = "overdue", "Overdue"
    ON_HOLD = "on_hold", "On hold (course paused)"
    RESULTS_PENDING = "results_pending", "Results pending"


class StopReason(Codes):
    FAILURE = "failure", "Treatment failure"
    ADVERSE_EVENT = "adverse_event", "Adverse event"
    INFECTION = "infection", "Infection"
    LAB_RESULT = "lab_result", "Laboratory result"
    PATIENT_CHOICE = "patient_choice", "Patient choice"
    OTHER = "other", "Other"


class PauseReason(Codes):
    INFECTION = "infection", "Infection"
    LAB_RESULT = "lab_result", "Laboratory result"
    CLINICIAN = "clinician", "Clinician decision"


# Staff pause for these; an infection is reported instead (the report pauses and alerts).
STAFF_PAUSE_REASONS = tuple(r for r in PauseReason if r != PauseReason.INFECTION)


class Reporter(Codes):
    STAFF = "staff", "Clinic staff"
    PATIENT = "patient", "Patient"
    SYSTEM = "system", "Other system"


class Role(Codes):
    CLINICIAN = "clinician", "Clinician"
    COORDINATOR = "coordinator", "Coordinator"
    VIEWER = "viewer", "Viewer"


class RuleSetKind(Codes):
    DRUG = "drug", "Drug rules"
    PROTOCOL = "protocol", "Clinic protocol"


class MessageKind(Codes):
    REMINDER = "reminder", "Check reminder (patient)"
    PAUSE_ALERT_STAFF = "pause_alert_staff", "Pause alert (staff)"
    PAUSE_ALERT_PATIENT = "pause_alert_patient", "Pause alert (patient)"
    RESULT_ALERT_STAFF = "result_alert_staff", "Result alert (staff)"
    FINDING_ESCALATION = "finding_escalation", "Finding unanswered (staff)"
    NEW_DATES = "new_dates", "New check dates after resume (patient)"
    COURSE_STOPPED = "course_stopped", "Treatment stopped (patient)"
    OVERDUE_DIGEST = "overdue_digest", "Overdue digest (staff)"
    CALENDAR_LINK = "calendar_link", "Calendar link (patient)"
    SAFETY_UNDELIVERED = "safety_undelivered", "Safety message undelivered (staff)"


# Safety news goes ahead of reminders and digests: its own queue, claimed first by every sender.
SAFETY_KINDS = frozenset(
    {
        MessageKind.PAUSE_ALERT_STAFF,
        MessageKind.PAUSE_ALERT_PATIENT,
        MessageKind.RESULT_ALERT_STAFF,
        MessageKind.FINDING_ESCALATION,
        MessageKind.NEW_DATES,
        MessageKind.SAFETY_UNDELIVERED,
    }
)


class MessageStatus(Codes):
    QUEUED = "queued", "Queued"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


class LinkPurpose(Codes):
    UNSUBSCRIBE = "unsubscribe", "Stop reminders"
    REPORT_INFECTION = "report_infection", "Report an infection"


class TaskName(Codes):
    """The Celery tasks (`clinics.tasks`), by the names services queue them and beat runs them."""

    ACTIVATE_STARTED_COURSES = "clinics.tasks.activate_started_courses"
    ROLL_PLANS_FORWARD = "clinics.tasks.roll_plans_forward"
    QUEUE_REMINDERS = "clinics.tasks.queue_reminders"
    MARK_OVERDUE_AND_DIGEST = "clinics.tasks.mark_overdue_and_digest"
    DISPATCH_MESSAGES = "clinics.tasks.dispatch_messages"
    SEND_DUE_MESSAGES = "clinics.tasks.send_due_messages"
    FORGET_IDEMPOTENCY_KEYS = "clinics.tasks.forget_idempotency_keys"


class TaskQueue(Codes):
    """Celery queues, in the order workers consume them (safety messages first)."""

    SAFETY = "safety", "Safety messages"
    DEFAULT = "celery", "Reminders, digests and periodic jobs"


COURSE_TRANSITIONS: dict[CourseStatus, frozenset[CourseStatus]] = {
    CourseStatus.PLANNED: frozenset(
        {CourseStatus.ACTIVE, CourseStatus.PAUSED, CourseStatus.STOPPED}
    ),
    CourseStatus.ACTIVE: frozenset({CourseStatus.PAUSED, CourseStatus.STOPPED}),
    # A course paused before its first dose goes back to planned when resumed.
    CourseStatus.PAUSED: frozenset(
        {CourseStatus.ACTIVE, CourseStatus.PLANNED, CourseStatus.STOPPED}
    ),
    CourseStatus.STOPPED: frozenset(),
}

CHECK_TRANSITIONS: dict[CheckStatus, frozenset[CheckStatus]] = {
    CheckStatus.SCHEDULED: frozenset(
        {CheckStatus.OVERDUE, CheckStatus.ON_HOLD, CheckStatus.CANCELLED, *SETTLED_CHECKS}
    ),
    CheckStatus.OVERDUE: frozenset(
        {CheckStatus.SCHEDULED, CheckStatus.ON_HOLD, CheckStatus.CANCELLED, *SETTLED_CHECKS}
    ),
    CheckStatus.ON_HOLD: frozenset(
        {CheckStatus.SCHEDULED, CheckStatus.OVERDUE, CheckStatus.CANCELLED, *SETTLED_CHECKS}
    ),
    # Results arrive (done); the sample was lost and must be taken again (scheduled).
    CheckStatus.PENDING: frozenset({CheckStatus.DONE, CheckStatus.SCHEDULED}),
    # A cancelled check comes back when a re-plan needs it again (same plan key, no duplicate).
    CheckStatus.CANCELLED: frozenset({CheckStatus.SCHEDULED, CheckStatus.ON_HOLD}),
    CheckStatus.MISSED: frozenset({CheckStatus.SCHEDULED, CheckStatus.ON_HOLD}),
    CheckStatus.DONE: frozenset(),
}


class LifecycleConflict(ValidationError):
    """The object's current state does not allow the action (the API answers 409)."""


def conflict(field: str, message: str) -> LifecycleConflict:
    return LifecycleConflict({field: message}, code="conflict")


def ensure_course_transition(current: str, target: str) -> None:
    if CourseStatus(target) not in COURSE_TRANSITIONS[CourseStatus(current)]:
        raise conflict(
            "status",
            f"A {CourseStatus(current).label.lower()} course cannot become "
            f"{CourseStatus(target).label.lower()}.",
        )


def ensure_check_transition(current: str, target: str) -> None:
    if current == target:
        return
    if CheckStatus(target) not in CHECK_TRANSITIONS[CheckStatus(current)]:
        raise conflict(
            "status",
            f"A {CheckStatus(current).label.lower()} check cannot become "
            f"{CheckStatus(target).label.lower()}.",
        )

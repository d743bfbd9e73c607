"""A clinician's decision on a finding: pause or stop the course from the finding, continue with a
written reason, or order a repeat test (which keeps the finding on the list until the repeat's
result is recorded). The finding's history keeps who decided what and when."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from ..core.vocab import (
    CLINICIAN_DECISIONS,
    CheckOrigin,
    CheckStatus,
    CourseStatus,
    FindingDecision,
    FindingStatus,
    PauseReason,
    StopReason,
    conflict,
)
from ..models import Finding, MonitoringCheck, TherapyCourse
from ..rulebook import drug_rules, protocol_rules
from .checks import check_repeat_create
from .courses import course_pause, course_stop
from .reminders import reminder_for_repeat
from .versions import ensure_version


def finding_decide(
    *,
    finding: Finding,
    decision: str,
    note: str = "",
    decided_by: User | None = None,
    version: int | None = None,
) -> Finding:
    """Record a clinician's decision on an undecided finding.

    pause: the course is paused (reason: laboratory result) and its checks go on hold;
    stop: the course is stopped (reason: laboratory result); continue: a written reason is
    required; repeat: a repeat check of the same test is due at once, within the protocol's
    `repeat_within`, and the patient is reminded. A finding with a repeat ordered can still be
    decided otherwise (the repeat check stays). `version`, when given, must be the finding's
    current one (a decision made on an older page is refused).
    """
    if decision not in CLINICIAN_DECISIONS:
        raise ValidationError(
            {"decision": f"Choose one of: {', '.join(d.value for d in CLINICIAN_DECISIONS)}."}
        )
    note = note.strip()
    if decision == FindingDecision.CONTINUE and not note:
        raise ValidationError({"note": "Write why the course continues unchanged."})
    with transaction.atomic():
        finding = _locked(finding)
        ensure_version(finding, version)
        if finding.status == FindingStatus.CLOSED:
            raise conflict("status", f"This finding was closed on {finding.closed_at:%Y-%m-%d}.")
        if decision == FindingDecision.REPEAT and finding.repeat_check_id is not None:
            raise conflict("decision", "A repeat test is already ordered for this finding.")
        course = finding.course
        why = f"Finding of {finding.collected_on}: {note}".strip(": ")
        if decision == FindingDecision.PAUSE:
            _pause_for(course, why)
        elif decision == FindingDecision.STOP:
            _stop_for(course, why)
        if decision == FindingDecision.REPEAT:
            finding.repeat_check = _repeat_check(finding)
            finding.status = FindingStatus.REPEAT_ORDERED
            reminder_for_repeat(check=finding.repeat_check)
        else:
            finding.status = FindingStatus.CLOSED
            finding.closed_at = timezone.now()
        finding.decision = decision
        finding.decision_note = note
        finding.decided_at = timezone.now()
        finding.decided_by = decided_by
        finding.version += 1
        finding.save()
    return finding


def _locked(finding: Finding) -> Finding:
    """The finding, locked after its course (the order course services lock in)."""
    TherapyCourse.objects.select_for_update().filter(pk=finding.course_id).first()
    return (
        Finding.objects.select_for_update(of=("self",))
        .select_related("course__patient__clinic", "course__drug", "monitoring_check")
        .get(pk=finding.pk)
    )


def _pause_for(course: TherapyCourse, why: str) -> None:
    if course.status == CourseStatus.PAUSED:
        return  # already off the drug (an infection, another finding): the decision is recorded
    if course.status == CourseStatus.STOPPED:
        raise conflict("decision", "The course is stopped.")
    course_pause(course=course, reason=PauseReason.LAB_RESULT, note=why)


def _stop_for(course: TherapyCourse, why: str) -> None:
    if course.status != CourseStatus.STOPPED:
        course_stop(course=course, reason=StopReason.LAB_RESULT, note=why)


def _repeat_check(finding: Finding) -> MonitoringCheck:
    """A check of the same test, due today and to be done within the protocol's repeat period;
    never on hold (a repeat is how an interruption ends) and never moved by a re-plan."""
    course = finding.course
    if course.status == CourseStatus.STOPPED:
        raise conflict("decision", "The course is stopped: no repeat test can be planned.")
    analytes = sorted(set(finding.results.values_list("analyte", flat=True)))
    source = finding.monitoring_check
    if source is not None:
        kind, analytes = source.kind, list(source.analytes)
    else:
        kind, panel = _kind_measuring(course, analytes[0])
        analytes = sorted({*analytes, *panel})
    within = protocol_rules(protocol=course.patient.clinic.protocol).settings.repeat_within
    today = course.patient.clinic.today()
    return check_repeat_create(
        course=course,
        key=f"repeat/{finding.uuid}",
        kind=kind,
        analytes=analytes,
        due_on=today,
        window_end=within.after(today),
        why=(
            f"Repeat test ordered on {today} for the finding of {finding.collected_on} "
            f"({finding.get_action_display()}): "
            + "; ".join(f"{r.analyte} {r.reading}" for r in finding.results.order_by("id"))
        ),
    )


def _kind_measuring(course: TherapyCourse, analyte: str) -> tuple[str, list[str]]:
    """The check kind (and its panel) that measures an analyte, from the course's own checks or
    else its drug's and protocol's rules."""
    for check in course.checks.exclude(status=CheckStatus.CANCELLED).order_by("-due_date"):
        if analyte in check.analytes and check.origin == CheckOrigin.PLAN:
            return check.kind, list(check.analytes)
    protocol = protocol_rules(protocol=course.patient.clinic.protocol)
    for rule in [*drug_rules(drug=course.drug).monitoring, *protocol.routine, *protocol.additional]:
        if analyte in rule.analytes:
            return rule.kind, list(rule.analytes)
    raise ValidationError({"decision": f"No check measures {analyte}: plan the repeat by hand."})

"""Findings: results of one sample that reached a threshold, open until a clinician decides.

A finding opens when a result's outcome is anything but "none" (advice, do not start, interrupt,
discontinue; a rule asking for confirmation by repeat testing always reaches one of these). The
results of one sample (same course, check and collection day) share one finding and one alert.
Clinicians' decisions are `services.finding_decisions`; a repeat check's result closes the
finding it was ordered for.
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from ..core.dates import local, working_days_after
from ..core.thresholds import Outcome, most_severe
from ..core.vocab import FindingDecision, FindingStatus, OutcomeAction
from ..models import Finding, LabResult, MonitoringCheck
from .alerts import finding_escalation_queue


def finding_for_result(*, result: LabResult, outcome: Outcome) -> Finding | None:
    """The open finding this result belongs to (opened for it, or the one of its sample), or
    None when no threshold was reached. Called inside the transaction that stores the result."""
    if not outcome.action.opens_finding:
        return None
    finding = (
        Finding.objects.select_for_update()
        .filter(
            course=result.course,
            monitoring_check=result.monitoring_check,
            collected_on=result.collected_on,
            status=FindingStatus.OPEN,
        )
        .first()
    )
    confirm = any(f.confirm for f in outcome.findings)
    if finding is None:
        finding = Finding.objects.create(
            course=result.course,
            monitoring_check=result.monitoring_check,
            collected_on=result.collected_on,
            action=outcome.action,
            confirm=confirm,
            opened_at=timezone.now(),
        )
    else:
        finding.action = most_severe([OutcomeAction(finding.action), outcome.action])
        finding.confirm = finding.confirm or confirm
        finding.version += 1
        finding.save(update_fields=["action", "confirm", "version"])
    result.finding = finding
    result.save(update_fields=["finding"])
    return finding


def finding_close_by_repeat(*, check: MonitoringCheck) -> Finding | None:
    """The repeat check ordered from a finding is done: the finding closes. Its results were
    evaluated like any other: out of range again, they opened a finding of their own."""
    finding = Finding.objects.select_for_update().filter(repeat_check=check).first()
    if finding is None or finding.status == FindingStatus.CLOSED:
        return None
    finding.status = FindingStatus.CLOSED
    finding.decision = FindingDecision.REPEAT_RESULT
    finding.closed_at = timezone.now()
    finding.version += 1
    finding.save(update_fields=["status", "decision", "closed_at", "version"])
    return finding


def findings_escalate(*, now: datetime | None = None) -> int:
    """Findings still open (no decision) after their clinic's escalation period, in working days,
    are escalated: marked, and staff are alerted a second time. Returns how many."""
    now = now or timezone.now()
    waiting = (
        Finding.objects.filter(status=FindingStatus.OPEN, escalated_at__isnull=True)
        .select_related("course__patient__clinic", "course__drug")
        .order_by("opened_at")
    )
    escalated = 0
    for finding in waiting.iterator(chunk_size=500):
        clinic = finding.course.patient.clinic
        opened_on = local(finding.opened_at, clinic.time_zone).date()
        if local(now, clinic.time_zone).date() < working_days_after(
            opened_on, clinic.finding_escalation_days
        ):
            continue
        with transaction.atomic():
            if not Finding.objects.filter(
                pk=finding.pk, status=FindingStatus.OPEN, escalated_at__isnull=True
            ).update(escalated_at=now):
                continue  # decided meanwhile
            finding.escalated_at = now
            finding_escalation_queue(finding=finding)
        escalated += 1
    return escalated

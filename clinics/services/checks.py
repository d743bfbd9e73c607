"""Completing planned checks."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from ..lifecycle import CheckStatus, LifecycleConflict, ensure_check_transition
from ..models import MonitoringCheck, TherapyCourse
from ..thresholds import SEVERITY
from .results import RecordedResult, ResultInput, earliest_sample, lab_result_record


@dataclass(frozen=True)
class CheckCompleted:
    check: MonitoringCheck
    results: tuple[RecordedResult, ...]

    @property
    def action(self) -> str:
        """The most severe threshold action among the results."""
        return max(
            (r.outcome.action for r in self.results), key=SEVERITY.__getitem__, default="none"
        )


def check_complete(
    *,
    check: MonitoringCheck,
    completed_on: date,
    results: Sequence[ResultInput] = (),
    completed_by=None,
) -> CheckCompleted:
    """Mark a check done, record its results and evaluate each against the thresholds.

    All or nothing: a bad result leaves the check open and stores nothing.
    Side effects: the check is DONE (reminders for it stop); LabResult rows are stored.
    """
    with transaction.atomic():
        # Lock the course first, as re-planning does, so a completion and a re-plan (pause,
        # resume, rule change) never interleave and a done check is never overwritten.
        TherapyCourse.objects.select_for_update().filter(pk=check.course_id).first()
        check = (
            MonitoringCheck.objects.select_for_update(of=("self",))
            .select_related("course__patient__clinic", "course__drug")
            .get(pk=check.pk)
        )
        if check.status == CheckStatus.DONE:
            raise LifecycleConflict(
                {"status": f"This check was done on {check.completed_on}."}, code="conflict"
            )
        ensure_check_transition(check.status, CheckStatus.DONE)
        if completed_on > check.course.patient.clinic.today():
            raise ValidationError({"completed_on": "The date is in the future."})
        if completed_on < earliest_sample(check.course):
            raise ValidationError(
                {"completed_on": f"The course starts on {check.course.start_date}: check the date."}
            )
        seen = set()
        for item in results:
            if item.analyte in seen:
                raise ValidationError({"results": f"{item.analyte} is given twice."})
            seen.add(item.analyte)
        recorded = []
        for index, item in enumerate(results):
            try:
                recorded.append(
                    lab_result_record(
                        course=check.course,
                        analyte=item.analyte,
                        value=item.value,
                        unit=item.unit,
                        collected_on=completed_on,
                        monitoring_check=check,
                        recorded_by=completed_by,
                    )
                )
            except ValidationError as exc:
                raise ValidationError(
                    {f"results[{index}].{k}": v for k, v in exc.message_dict.items()}
                ) from None
        check.status = CheckStatus.DONE
        check.sequence += 1
        check.completed_on = completed_on
        check.completed_at = timezone.now()
        check.completed_by = completed_by
        check.save(
            update_fields=[
                "status",
                "sequence",
                "completed_on",
                "completed_at",
                "completed_by",
                "updated_at",
            ]
        )
    return CheckCompleted(check=check, results=tuple(recorded))

"""Patients: saving one keeps consent timestamps and the plans that depend on its facts."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from ..core.vocab import CourseStatus
from ..models import Patient
from .replanning import course_replan
from .versions import ensure_version

# Facts the drug rules read (pregnancy checks by reproductive potential, sex at birth and age).
PLANNING_FACTS = frozenset({"sex_at_birth", "date_of_birth", "reproductive_potential"})
_MRN_TAKEN = {"mrn": "Another patient of this clinic has this MRN."}


def patient_save(
    *, patient: Patient, changed: Iterable[str] = (), version: int | None = None
) -> Patient:
    """Create or update a patient.

    Records when reminder consent was given or withdrawn; re-plans the open courses when a fact
    the rules use changed; refuses to move a patient with courses to another clinic. `version`,
    when given, must be the stored one (an edit made from an older copy is refused, never
    silently written over a newer change); every update raises it.
    """
    changed = set(changed)
    with transaction.atomic():
        creating = patient.pk is None
        if not creating:
            stored = Patient.objects.select_for_update().only("version").get(pk=patient.pk)
            ensure_version(stored, version)
            patient.version = stored.version + 1
        if not creating and "clinic" in changed and patient.courses.exists():
            raise ValidationError(
                {"clinic": "A patient with courses cannot move to another clinic."}
            )
        if creating or "reminder_consent" in changed:
            patient.reminder_consent_at = timezone.now() if patient.reminder_consent else None
        taken = Patient.objects.filter(clinic_id=patient.clinic_id, mrn=patient.mrn)
        if taken.exclude(pk=patient.pk).exists():
            raise ValidationError(_MRN_TAKEN)
        patient.full_clean()
        try:
            with transaction.atomic():  # a concurrent save of the same MRN won the race
                patient.save()
        except IntegrityError:
            raise ValidationError(_MRN_TAKEN) from None
        if not creating and changed & PLANNING_FACTS:
            for course in patient.courses.exclude(status=CourseStatus.STOPPED):
                course_replan(course=course)
    return patient


def patient_update(
    *, patient: Patient, data: dict[str, Any], version: int | None = None
) -> Patient:
    """Set the given fields and save (`patient_save`), knowing which of them changed."""
    changed = [name for name, value in data.items() if getattr(patient, name) != value]
    for name, value in data.items():
        setattr(patient, name, value)
    return patient_save(patient=patient, changed=changed, version=version)

"""Who a message goes to: a clinic's staff addresses, and the zone a patient's clock runs in."""

from __future__ import annotations

from ..models import Clinic, Patient


def staff_recipients(*, clinic: Clinic) -> list[tuple[int, str]]:
    """(user id, email) of the clinic's active staff with an address, in a stable order."""
    return list(
        clinic.memberships.filter(user__is_active=True)
        .exclude(user__email="")
        .values_list("user_id", "user__email")
        .order_by("user_id")
    )


def patient_zone(patient: Patient) -> str:
    """The patient's own time zone, else their clinic's."""
    return patient.time_zone or patient.clinic.time_zone

"""Read-side queries shared by the admin, the API and the tasks."""

from django.db.models import QuerySet

from .models import Clinic, StaffMembership


def clinics_for_user(user) -> QuerySet[Clinic]:
    """The clinics a staff user belongs to (all of them for a superuser)."""
    if user.is_superuser:
        return Clinic.objects.all()
    return Clinic.objects.filter(memberships__user=user)


def role_in_clinic(user, clinic_id: int) -> str | None:
    """The user's role in one clinic (None: not a member)."""
    return (
        StaffMembership.objects.filter(user=user, clinic_id=clinic_id)
        .values_list("role", flat=True)
        .first()
    )

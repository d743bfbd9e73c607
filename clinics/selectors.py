"""Read-side queries shared by the admin, the API and the tasks."""

from django.db.models import QuerySet

from .models import Clinic


def clinics_for_user(user) -> QuerySet[Clinic]:
    """The clinics a staff user belongs to (all of them for a superuser)."""
    if user.is_superuser:
        return Clinic.objects.all()
    return Clinic.objects.filter(memberships__user=user)

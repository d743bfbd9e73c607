"""Clinic staff accounts: a membership with a role, and the admin permissions that role needs."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.db import transaction

from ..models import Clinic, StaffMembership

Role = StaffMembership.Role

# Django model permissions per role (row scoping to the user's clinics is done in querysets).
_VIEW = ["view_clinic", "view_patient", "view_therapycourse", "view_monitoringcheck", "view_labresult",
         "view_infectionreport", "view_drug", "view_rulesetversion", "view_staffmembership"]  # fmt: skip
ROLE_PERMISSIONS: dict[str, list[str]] = {
    Role.VIEWER: _VIEW,
    Role.COORDINATOR: [*_VIEW, "add_patient", "change_patient"],
    Role.CLINICIAN: [*_VIEW, "add_patient", "change_patient"],
}


def _role_group(role: str) -> Group:
    group, _ = Group.objects.get_or_create(name=f"jakmonitor {role}")
    group.permissions.set(
        Permission.objects.filter(
            content_type__app_label="clinics", codename__in=ROLE_PERMISSIONS[role]
        )
    )
    return group


@transaction.atomic
def staff_member_add(*, clinic: Clinic, username: str, email: str, role: str, password: str):
    """Create or update a staff login for a clinic; returns the user."""
    user, _ = get_user_model().objects.get_or_create(username=username, defaults={"email": email})
    user.email = email
    user.is_staff = True
    user.set_password(password)
    user.save()
    StaffMembership.objects.update_or_create(user=user, clinic=clinic, defaults={"role": role})
    user.groups.add(_role_group(role))
    return user

"""Clinic staff accounts: a membership with a role, and the admin permissions that role needs."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission, User
from django.core.exceptions import ValidationError
from django.db import transaction

from ..core.vocab import Role
from ..models import Clinic, StaffMembership

# Django model permissions per role (row scoping to the user's clinics is done in querysets).
_VIEW = [
    "view_clinic",
    "view_patient",
    "view_therapycourse",
    "view_monitoringcheck",
    "view_labresult",
    "view_infectionreport",
    "view_drug",
    "view_rulesetversion",
    "view_staffmembership",
    "view_message",
    "view_duenowcheck",
    "view_resultspendingcheck",
    "view_duethisweekcheck",
    "view_overduecheck",
    "view_pausedcourse",
    "view_coursewithoutnextcheck",
    "view_failedmessage",
    "view_finding",
    "view_openfinding",
]
ROLE_PERMISSIONS: dict[str, list[str]] = {
    Role.VIEWER: _VIEW,
    Role.COORDINATOR: [*_VIEW, "add_patient", "change_patient"],
    Role.CLINICIAN: [*_VIEW, "add_patient", "change_patient"],
}


def _group_name(role: str) -> str:
    return f"jakmonitor {role}"


def _role_group(role: str) -> Group:
    group, _ = Group.objects.get_or_create(name=_group_name(role))
    group.permissions.set(
        Permission.objects.filter(
            content_type__app_label="clinics", codename__in=ROLE_PERMISSIONS[role]
        )
    )
    return group


@transaction.atomic
def staff_member_add(
    *, clinic: Clinic, username: str, email: str, role: str, password: str | None = None
) -> User:
    """Give a login a role in a clinic, creating the login if needed; returns the user.

    `password` sets (or, for an existing login, resets) the password. The role's Django
    permissions come from its group; which clinic they apply to is decided per object
    (`clinics.permissions`), so a viewer in one clinic cannot edit there even if
    they are a clinician elsewhere.
    """
    if role not in ROLE_PERMISSIONS:
        raise ValidationError({"role": f"Choose one of: {', '.join(ROLE_PERMISSIONS)}."})
    user, created = get_user_model().objects.get_or_create(
        username=username, defaults={"email": email}
    )
    if created and password is None:
        raise ValidationError({"password": "A new login needs a password."})
    if created:
        user.email = email
    user.is_staff = True
    if password is not None:
        user.set_password(password)
    user.save()
    StaffMembership.objects.update_or_create(user=user, clinic=clinic, defaults={"role": role})
    roles = set(user.memberships.values_list("role", flat=True))
    user.groups.remove(
        *Group.objects.filter(name__in=[_group_name(r) for r in ROLE_PERMISSIONS if r not in roles])
    )
    user.groups.add(*(_role_group(r) for r in roles))
    return user


def role_groups_sync() -> None:
    """Give each role's existing group the permissions its role has now (run after every
    migrate: a new worklist's permission reaches staff added before it existed)."""
    for group in Group.objects.filter(name__in=[_group_name(r) for r in ROLE_PERMISSIONS]):
        _role_group(group.name.removeprefix(_group_name("")))

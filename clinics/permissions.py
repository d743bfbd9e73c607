"""Who may do what, and in which clinic: the one permission layer the admin and the API share.

A staff member holds a role per clinic (StaffMembership). Each operation needs a capability;
each role grants a set of them; a capability counts only in the clinics where the user holds a
role that grants it. Superusers may do everything everywhere. Querysets are scoped with
`clinic_ids(user, capability)`, single objects are checked with `allowed(...)`, so a tampered
URL finds nothing (404) or is refused (403), never another clinic's data.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TypedDict, TypeGuard, TypeVar

from django.contrib.auth.models import AnonymousUser, User
from django.db.models import Model, QuerySet

from .core.vocab import Role
from .models import Clinic, StaffMembership


class Can(StrEnum):
    VIEW = "view"  # see the clinic's patients, plans, results, reports and messages
    EDIT_PATIENTS = "edit_patients"  # add and edit patients, their contact and calendar links
    COMPLETE_CHECKS = "complete_checks"  # mark checks done with the results that came back
    REPORT_INFECTIONS = "report_infections"  # safety: pauses the course and alerts clinicians
    RESEND_MESSAGES = "resend_messages"  # queue a reminder again
    MANAGE_COURSES = "manage_courses"  # start, resume, change dose, stop; record lab results


ROLE_CAPABILITIES: dict[str, frozenset[Can]] = {
    Role.VIEWER: frozenset({Can.VIEW}),
    Role.COORDINATOR: frozenset(
        {
            Can.VIEW,
            Can.EDIT_PATIENTS,
            Can.COMPLETE_CHECKS,
            Can.REPORT_INFECTIONS,
            Can.RESEND_MESSAGES,
        }
    ),
    Role.CLINICIAN: frozenset(Can),
}


_M = TypeVar("_M", bound=Model)
_Row = TypeVar("_Row")


class ClinicIdRow(TypedDict):
    clinic_id: int


def _roles_granting(capability: Can) -> list[str]:
    return [role for role, caps in ROLE_CAPABILITIES.items() if capability in caps]


def is_active_staff(user: User | AnonymousUser) -> TypeGuard[User]:
    """Signed in, active and staff: only then does any membership count (and the user is a
    User, never the anonymous one)."""
    return user.is_authenticated and user.is_active and user.is_staff


def clinic_ids(
    user: User | AnonymousUser, capability: Can = Can.VIEW
) -> QuerySet[StaffMembership, ClinicIdRow] | None:
    """The ids of the clinics where the user has the capability, as a subquery (so scoping a
    list costs no extra query); None means every clinic (superuser)."""
    if not is_active_staff(user):
        return StaffMembership.objects.none().values("clinic_id")
    if user.is_superuser:
        return None
    return StaffMembership.objects.filter(
        user_id=user.pk, role__in=_roles_granting(capability)
    ).values("clinic_id")


def allowed(user: User | AnonymousUser, capability: Can, clinic_id: int) -> bool:
    ids = clinic_ids(user, capability)
    return ids is None or ids.filter(clinic_id=clinic_id).exists()


def capabilities(user: User | AnonymousUser, clinic_id: int) -> frozenset[Can]:
    """What the user may do in one clinic (one query): which actions a page offers. The actions
    themselves check again with `allowed`."""
    if not is_active_staff(user):
        return frozenset()
    if user.is_superuser:
        return frozenset(Can)
    roles = StaffMembership.objects.filter(user_id=user.pk, clinic_id=clinic_id)
    return frozenset().union(*(ROLE_CAPABILITIES[r] for r in roles.values_list("role", flat=True)))


def clinics(user: User | AnonymousUser, capability: Can = Can.VIEW) -> QuerySet[Clinic]:
    """The Clinic queryset where the user has the capability (form choices, filters)."""
    ids = clinic_ids(user, capability)
    return Clinic.objects.all() if ids is None else Clinic.objects.filter(pk__in=ids)


def scope(
    queryset: QuerySet[_M, _Row],
    user: User | AnonymousUser,
    clinic_path: str,
    capability: Can = Can.VIEW,
    *,
    literal: bool = False,
) -> QuerySet[_M, _Row]:
    """Rows of `queryset` that belong (through `clinic_path`) to the user's permitted clinics.

    `literal` reads the clinic ids first (one small query) and filters on the values: PostgreSQL
    misestimates a subquery of memberships and sorted every row of the clinics to give one page;
    with values it walks the index in order and stops after the page.
    """
    ids = clinic_ids(user, capability)
    if ids is None:
        return queryset
    if literal:
        values = list(ids.values_list("clinic_id", flat=True))
        return queryset.filter(**{f"{clinic_path}__in": values})
    return queryset.filter(**{f"{clinic_path}__in": ids})

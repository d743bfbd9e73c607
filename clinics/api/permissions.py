"""DRF's side of `clinics.permissions`: the same capabilities per role and clinic as the admin.

Lists are scoped in the view's queryset (another clinic's object is 404); each action names the
capability it needs (`ScopedViewSet.capabilities`), checked against the object's clinic (403).
"""

from collections.abc import Mapping
from typing import Any, Protocol, runtime_checkable

from django.db.models import Model
from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request
from rest_framework.views import APIView

from ..permissions import Can, allowed, is_active_staff


@runtime_checkable
class ClinicScoped(Protocol):
    """What `ClinicRole` reads from its view (`ScopedViewSet` has it): the action's capability
    and the clinic an object belongs to."""

    capabilities: Mapping[str, Can]
    action: str

    def clinic_id_of(self, obj: Model) -> int: ...


class IsStaff(BasePermission):
    """Active clinic staff (what they see is then scoped to their clinics)."""

    def has_permission(self, request: Request, view: APIView) -> bool:
        user = request.user
        return bool(user and is_active_staff(user))


class ClinicRole(IsStaff):
    message = "Your role in this patient's clinic does not allow this."

    def has_object_permission(self, request: Request, view: APIView, obj: Any) -> bool:
        if not isinstance(view, ClinicScoped):
            raise TypeError(f"ClinicRole needs a clinic-scoped view, not {type(view).__name__}")
        capability = view.capabilities.get(view.action)
        if capability is None:  # a change needs a capability named for it: none, no change
            if request.method not in SAFE_METHODS:
                return False
            capability = Can.VIEW
        return allowed(request.user, capability, view.clinic_id_of(obj))

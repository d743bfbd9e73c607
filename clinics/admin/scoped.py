"""The base of every staff admin page: rows of the user's own clinics only, changes only where the
role allows, history pages scoped like the rows."""

from __future__ import annotations

from typing import Any, Generic, TypeVar

from django.contrib.admin import AdminSite
from django.contrib.admin.utils import unquote
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.db.models import Model, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from simple_history.admin import SimpleHistoryAdmin

from ..permissions import Can, allowed, scope
from .internals import NotFoundInsteadOfRedirect

_M = TypeVar("_M", bound=Model)


def staff_user(request: HttpRequest) -> User:
    """The signed-in staff member: `AdminSite.admin_view` lets no one else reach a staff page."""
    user = request.user
    if not isinstance(user, User):  # not reached: admin_view sends the anonymous to log in
        raise PermissionDenied
    return user


class ClinicScopedAdmin(
    NotFoundInsteadOfRedirect,
    SimpleHistoryAdmin,  # type: ignore[misc]  # simple_history ships no types: its admin is Any
    Generic[_M],
):
    """Rows of the user's own clinics only (`clinics.permissions`, shared with the API); changes
    only where their role in that row's clinic grants `change_capability`. Every change is kept
    (django-simple-history: who, when, what), shown by each page's History button."""

    clinic_path = "clinic"
    change_capability = Can.EDIT_PATIENTS
    # ModelAdmin's, as the stubs type them (mypy sees the untyped base as Any)
    model: type[_M]
    admin_site: AdminSite

    def get_queryset(self, request: HttpRequest) -> QuerySet[_M]:
        rows: QuerySet[_M] = scope(super().get_queryset(request), request.user, self.clinic_path)
        return rows

    def _clinic_id(self, obj: _M) -> int:
        target: object = obj
        for part in self.clinic_path.split("__")[:-1]:
            target = getattr(target, part)
        clinic_id: int = getattr(target, f"{self.clinic_path.split('__')[-1]}_id")
        return clinic_id

    def has_change_permission(self, request: HttpRequest, obj: _M | None = None) -> bool:
        allowed_here: bool = super().has_change_permission(request, obj)
        if not allowed_here or obj is None:
            return allowed_here
        return allowed(request.user, self.change_capability, self._clinic_id(obj))

    def has_delete_permission(self, request: HttpRequest, obj: _M | None = None) -> bool:
        return request.user.is_superuser and super().has_delete_permission(request, obj)

    # simple-history reads historical copies straight from their table (its fallback for a row
    # the queryset does not hold would show another clinic's history): 404, as for the row.
    def _ensure_visible(self, request: HttpRequest, object_id: str) -> None:
        if not self.get_queryset(request).filter(pk=unquote(object_id)).exists():
            raise Http404

    def history_view(
        self, request: HttpRequest, object_id: str, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        self._ensure_visible(request, object_id)
        response: HttpResponse = super().history_view(request, object_id, extra_context)
        return response

    def history_form_view(
        self,
        request: HttpRequest,
        object_id: str,
        version_id: str,
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        self._ensure_visible(request, object_id)
        response: HttpResponse = super().history_form_view(
            request, object_id, version_id, extra_context
        )
        return response


class ReadOnlyAdmin(ClinicScopedAdmin[_M]):
    def has_add_permission(self, request: HttpRequest, obj: _M | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: _M | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: _M | None = None) -> bool:
        return False

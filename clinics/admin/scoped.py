"""The base of every staff admin page: rows of the user's own clinics only, changes only where the
role allows, history pages scoped like the rows."""

from django.contrib.admin.utils import unquote
from django.http import Http404
from simple_history.admin import SimpleHistoryAdmin

from ..permissions import Can, allowed, scope
from .internals import NotFoundInsteadOfRedirect


class ClinicScopedAdmin(NotFoundInsteadOfRedirect, SimpleHistoryAdmin):
    """Rows of the user's own clinics only (`clinics.permissions`, shared with the API); changes
    only where their role in that row's clinic grants `change_capability`. Every change is kept
    (django-simple-history: who, when, what), shown by each page's History button."""

    clinic_path = "clinic"
    change_capability = Can.EDIT_PATIENTS

    def get_queryset(self, request):
        return scope(super().get_queryset(request), request.user, self.clinic_path)

    def _clinic_id(self, obj) -> int:
        for part in self.clinic_path.split("__")[:-1]:
            obj = getattr(obj, part)
        return getattr(obj, f"{self.clinic_path.split('__')[-1]}_id")

    def has_change_permission(self, request, obj=None):
        allowed_here = super().has_change_permission(request, obj)
        if not allowed_here or obj is None:
            return allowed_here
        return allowed(request.user, self.change_capability, self._clinic_id(obj))

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser and super().has_delete_permission(request, obj)

    # simple-history reads historical copies straight from their table (its fallback for a row
    # the queryset does not hold would show another clinic's history): 404, as for the row.
    def _ensure_visible(self, request, object_id) -> None:
        if not self.get_queryset(request).filter(pk=unquote(object_id)).exists():
            raise Http404

    def history_view(self, request, object_id, extra_context=None):
        self._ensure_visible(request, object_id)
        return super().history_view(request, object_id, extra_context)

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        self._ensure_visible(request, object_id)
        return super().history_form_view(request, object_id, version_id, extra_context)


class ReadOnlyAdmin(ClinicScopedAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

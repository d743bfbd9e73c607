"""Staff admin. Every queryset is limited to the clinics the user belongs to (superusers: all).

Changes to courses and checks go through the services (the worklists and actions come with the
staff UI issue); here staff can manage patients and read plans with the "why" of each check.
"""

import csv
from functools import partial

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import Http404, StreamingHttpResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from simple_history.admin import SimpleHistoryAdmin

from . import selectors
from .admin_actions import action_view
from .feeds.tokens import feed_urls
from .models import (
    Clinic,
    CourseWithoutNextCheck,
    Drug,
    DueThisWeekCheck,
    FailedMessage,
    InfectionReport,
    LabResult,
    Message,
    MonitoringCheck,
    OverdueCheck,
    Patient,
    PausedCourse,
    RuleSetVersion,
    StaffMembership,
    TherapyCourse,
)
from .permissions import Can, allowed, capabilities, clinics, scope
from .services.feeds import calendar_feed_issue, calendar_feed_revoke
from .services.patients import patient_save


class ClinicScopedAdmin(SimpleHistoryAdmin):
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

    def _get_obj_does_not_exist_redirect(self, request, opts, object_id):
        """Another clinic's row, or none at all: 404, as for every other URL (Django's admin
        would redirect with a message)."""
        raise Http404

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


@admin.register(Clinic)
class ClinicAdmin(ClinicScopedAdmin):
    clinic_path = "pk"
    list_display = ("name", "jurisdiction", "time_zone", "protocol")

    def has_change_permission(self, request, obj=None):
        return request.user.is_superuser


@admin.register(StaffMembership)
class StaffMembershipAdmin(ReadOnlyAdmin):
    list_display = ("user", "clinic", "role")
    list_select_related = ("user", "clinic")


@admin.register(Patient)
class PatientAdmin(ClinicScopedAdmin):
    list_display = (
        "mrn",
        "family_name",
        "given_name",
        "date_of_birth",
        "clinic",
        "reminder_consent",
    )
    list_select_related = ("clinic",)
    search_fields = ("mrn", "family_name", "given_name")
    list_filter = (("clinic", admin.RelatedOnlyFieldListFilter),)
    readonly_fields = ("reminder_consent_at",)
    actions = ("send_calendar_link", "revoke_calendar_link")

    @staticmethod
    def _live_feed(obj):
        return obj.calendar_feeds.filter(revoked_at__isnull=True).first() if obj.pk else None

    @admin.display(description="Calendar link")
    def calendar_link(self, obj):
        feed = self._live_feed(obj)
        if feed is None:
            return "None: use the action “Send a new calendar link” on the patient list."
        urls = feed_urls(feed)
        return format_html(
            "Live since {}. Subscribe: <code>{}</code><br>Google Calendar (From URL): <code>{}</code>",
            feed.created_at.date(),
            urls.webcal,
            urls.web,
        )

    @admin.display(description="Calendar link")
    def calendar_link_state(self, obj):
        feed = self._live_feed(obj)
        return f"Live since {feed.created_at.date()}" if feed else "None"

    def _editable(self, request, queryset):
        """The selected patients this user may change (their role in each patient's clinic)."""
        allowed = [
            p for p in queryset.select_related("clinic") if self.has_change_permission(request, p)
        ]
        if len(allowed) < len(queryset):
            self.message_user(
                request,
                "Your role does not allow this for some selected patients; they were left as they are.",
                messages.WARNING,
            )
        return allowed

    @admin.action(
        description="Send a new calendar link (the old link stops working)", permissions=["change"]
    )
    def send_calendar_link(self, request, queryset):
        patients = self._editable(request, queryset)
        for patient in patients:
            calendar_feed_issue(patient=patient, issued_by=request.user)
        no_email = sum(1 for p in patients if not p.email)
        self.message_user(
            request,
            f"New calendar links for {len(patients)} patient(s); emailed to those with an address"
            + (
                f" ({no_email} without: give them the link from their patient page)."
                if no_email
                else "."
            ),
        )

    @admin.action(description="Stop the calendar link", permissions=["change"])
    def revoke_calendar_link(self, request, queryset):
        stopped = sum(calendar_feed_revoke(patient=p) for p in self._editable(request, queryset))
        self.message_user(request, f"Stopped {stopped} calendar link(s).")

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "clinic":
            kwargs["queryset"] = clinics(request.user, Can.EDIT_PATIENTS)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return self.readonly_fields
        # The secret link only for roles that may rotate it (it outlives whoever has seen it);
        # a patient with a plan stays in their clinic (their courses and checks belong there).
        link = (
            "calendar_link" if self.has_change_permission(request, obj) else "calendar_link_state"
        )
        return (*self.readonly_fields, link, "clinic")

    def save_model(self, request, obj, form, change):
        patient_save(patient=obj, changed=form.changed_data)

    change_form_template = "clinics/admin/patient_change_form.html"

    def change_view(self, request, object_id, form_url="", extra_context=None):
        patient = self.get_queryset(request).filter(pk=unquote(object_id)).first()
        extra = (
            {
                "overview": selectors.patient_overview(patient),
                "can": capabilities(request.user, patient.clinic_id),
            }
            if patient
            else {}
        )
        return super().change_view(request, object_id, form_url, {**extra, **(extra_context or {})})

    def get_urls(self):
        action = path(
            "action/<slug:name>/<uuid:uuid>/",
            self.admin_site.admin_view(partial(action_view, admin_site=self.admin_site)),
            name="clinics_patient_action",
        )
        return [action, *super().get_urls()]


class CheckInline(admin.TabularInline):
    model = MonitoringCheck
    fields = ("kind", "due_date", "window_start", "window_end", "status", "verified", "why")
    readonly_fields = fields
    extra = 0
    can_delete = False
    ordering = ("due_date", "kind")

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(TherapyCourse)
class TherapyCourseAdmin(ReadOnlyAdmin):
    clinic_path = "patient__clinic"
    list_display = ("patient", "drug", "dose_code", "indication", "start_date", "status")
    list_select_related = ("patient", "drug")
    list_filter = ("status", "drug")
    inlines = [CheckInline]


@admin.register(MonitoringCheck)
class MonitoringCheckAdmin(ReadOnlyAdmin):
    clinic_path = "course__patient__clinic"
    list_display = ("course", "kind", "due_date", "window_end", "status", "verified")
    list_select_related = ("course__patient", "course__drug")
    list_filter = ("status", "kind")
    date_hierarchy = "due_date"


@admin.register(LabResult)
class LabResultAdmin(ReadOnlyAdmin):
    clinic_path = "course__patient__clinic"
    list_display = ("course", "analyte", "value", "unit", "collected_on", "outcome_action")
    list_select_related = ("course__patient", "course__drug")


@admin.register(InfectionReport)
class InfectionReportAdmin(ReadOnlyAdmin):
    clinic_path = "course__patient__clinic"
    list_display = ("course", "serious", "reporter", "reported_at", "resolved_at")
    list_select_related = ("course__patient", "course__drug")


@admin.register(Message)
class MessageAdmin(ReadOnlyAdmin):
    """The outbox: what was sent to whom, and what failed (status Failed) with its last error."""

    clinic_path = "clinic"
    list_display = (
        "created_at",
        "kind",
        "recipient",
        "status",
        "attempts",
        "sent_at",
        "last_error",
    )
    list_filter = ("status", "kind")
    search_fields = ("recipient", "patient__mrn")
    exclude = ("context",)
    date_hierarchy = "created_at"


@admin.register(Drug)
class DrugAdmin(admin.ModelAdmin):
    list_display = ("name", "code", "current_version")

    def has_change_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(RuleSetVersion)
class RuleSetVersionAdmin(DrugAdmin):
    list_display = ("kind", "code", "version", "loaded_at", "source_path")
    list_filter = ("kind", "code")


class WorklistAdmin(ReadOnlyAdmin):
    """A staff worklist: rows from `clinics.selectors`, paged, searchable by MRN and name,
    filterable by clinic, downloadable as CSV (the filtered list, not just the page)."""

    change_list_template = "clinics/admin/worklist_change_list.html"
    list_per_page = 100
    list_display_links = None
    csv_columns: tuple[tuple[str, str], ...] = ()
    patient_path = ""

    def worklist(self):
        raise NotImplementedError

    def get_queryset(self, request):
        return scope(self.worklist(), request.user, self.clinic_path)

    @admin.display(description="Patient")
    def patient_link(self, obj):
        patient = _follow(obj, self.patient_path)
        url = reverse("admin:clinics_patient_change", args=[patient.pk])
        return format_html('<a href="{}">{} {}</a>', url, patient.mrn, patient)

    def get_urls(self):
        info = self.model._meta.app_label, self.model._meta.model_name
        export = path(
            "export.csv",
            self.admin_site.admin_view(self.export_csv),
            name="{}_{}_export".format(*info),
        )
        return [export, *super().get_urls()]

    def export_csv(self, request):
        """The list as filtered and searched on screen, every page; cells that a spreadsheet
        would run as a formula are quoted (CSV injection)."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        rows = self.get_changelist_instance(request).get_queryset(request)
        writer = csv.writer(_Echo())

        def lines():
            yield writer.writerow([header for header, _ in self.csv_columns])
            for obj in rows.iterator(chunk_size=500):
                yield writer.writerow([_cell(_follow(obj, attr)) for _, attr in self.csv_columns])

        name = f"{self.model._meta.model_name}-{timezone.localdate().isoformat()}.csv"
        response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response


class _Echo:
    def write(self, value):
        return value


def _follow(obj, dotted: str):
    for part in dotted.split("."):
        obj = getattr(obj, part)
        obj = obj() if callable(obj) else obj
    return obj


def _cell(value) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


_CHECK_COLUMNS = (
    ("MRN", "course.patient.mrn"),
    ("Family name", "course.patient.family_name"),
    ("Given name", "course.patient.given_name"),
    ("Clinic", "course.patient.clinic.name"),
    ("Check", "get_kind_display"),
    ("Due", "due_date"),
    ("Window start", "window_start"),
    ("Window end", "window_end"),
    ("Status", "get_status_display"),
    ("Drug", "course.drug.name"),
)
_COURSE_COLUMNS = (
    ("MRN", "patient.mrn"),
    ("Family name", "patient.family_name"),
    ("Given name", "patient.given_name"),
    ("Clinic", "patient.clinic.name"),
    ("Drug", "drug.name"),
    ("Dose", "dose_code"),
    ("Start", "start_date"),
    ("Status", "get_status_display"),
    ("Since", "status_changed_at"),
)


class CheckWorklistAdmin(WorklistAdmin):
    clinic_path = "course__patient__clinic"
    patient_path = "course.patient"
    list_display = (
        "patient_link",
        "kind",
        "due_date",
        "window_start",
        "window_end",
        "status",
        "course_drug",
        "why",
    )
    list_select_related = ("course__patient__clinic", "course__drug")
    list_filter = (("course__patient__clinic", admin.RelatedOnlyFieldListFilter), "kind")
    search_fields = ("course__patient__mrn", "course__patient__family_name")
    csv_columns = _CHECK_COLUMNS

    @admin.display(description="Drug")
    def course_drug(self, obj):
        return obj.course.drug.name


class CourseWorklistAdmin(WorklistAdmin):
    clinic_path = "patient__clinic"
    patient_path = "patient"
    list_display = (
        "patient_link",
        "drug",
        "dose_code",
        "start_date",
        "status",
        "status_changed_at",
    )
    list_select_related = ("patient__clinic", "drug")
    list_filter = (("patient__clinic", admin.RelatedOnlyFieldListFilter), "drug")
    search_fields = ("patient__mrn", "patient__family_name")
    csv_columns = _COURSE_COLUMNS


@admin.register(DueThisWeekCheck)
class DueThisWeekAdmin(CheckWorklistAdmin):
    def worklist(self):
        return selectors.checks_due_this_week(model=self.model)


@admin.register(OverdueCheck)
class OverdueAdmin(CheckWorklistAdmin):
    def worklist(self):
        return selectors.overdue_checks(model=self.model)


@admin.register(PausedCourse)
class PausedCourseAdmin(CourseWorklistAdmin):
    def worklist(self):
        return selectors.paused_courses(model=self.model)


@admin.register(CourseWithoutNextCheck)
class CourseWithoutNextCheckAdmin(CourseWorklistAdmin):
    def worklist(self):
        return selectors.courses_without_next_check(model=self.model)


@admin.register(FailedMessage)
class FailedMessageAdmin(WorklistAdmin):
    clinic_path = "clinic"
    patient_path = "patient"
    list_display = ("created_at", "kind", "recipient", "attempts", "last_error", "patient_mrn")
    list_select_related = ("patient", "clinic")
    list_filter = (("clinic", admin.RelatedOnlyFieldListFilter), "kind")
    search_fields = ("recipient", "patient__mrn")
    csv_columns = (
        ("Created", "created_at"),
        ("Kind", "get_kind_display"),
        ("Recipient", "recipient"),
        ("Clinic", "clinic.name"),
        ("Attempts", "attempts"),
        ("Last error", "last_error"),
    )

    def worklist(self):
        return selectors.failed_messages(model=self.model)

    @admin.display(description="MRN")
    def patient_mrn(self, obj):
        return obj.patient.mrn if obj.patient else ""

"""The staff admin's model pages: clinics, memberships, patients (with their page of courses,
checks, results, reports, messages and actions), courses, checks, results, infection reports,
messages and the drug rules. Every queryset is limited to the user's clinics (`scoped`);
changes go through the services.
"""

from functools import partial

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.urls import path
from django.utils.html import format_html

from ..feeds.tokens import feed_urls
from ..models import (
    Clinic,
    Drug,
    InfectionReport,
    LabResult,
    Message,
    MonitoringCheck,
    Patient,
    RuleSetVersion,
    StaffMembership,
    TherapyCourse,
)
from ..permissions import Can, capabilities, clinics
from ..selectors.patients import patient_overview
from ..services.calendar_feeds import calendar_feed_issue, calendar_feed_revoke
from ..services.patients import patient_save
from .actions import action_view
from .scoped import ClinicScopedAdmin, ReadOnlyAdmin


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
                "overview": patient_overview(patient),
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

"""The staff admin's model pages: clinics, memberships, patients (with their page of courses,
checks, results, reports, messages and actions), courses, checks, results, infection reports,
messages and the drug rules. Every queryset is limited to the user's clinics (`scoped`);
changes go through the services.
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.db.models import ForeignKey, QuerySet
from django.http import HttpRequest, HttpResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html, format_html_join

from ..core.vocab import FindingStatus
from ..feeds.tokens import feed_urls
from ..models import (
    CalendarFeed,
    Clinic,
    Drug,
    Finding,
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
from .forms import PatientForm
from .scoped import ClinicScopedAdmin, ReadOnlyAdmin, staff_user

if TYPE_CHECKING:  # the stubs' admin classes take their models; Django's take no type arguments
    _CheckInlineBase = admin.TabularInline[MonitoringCheck, TherapyCourse]
    _RulesAdminBase = admin.ModelAdmin[Drug | RuleSetVersion]
else:
    _CheckInlineBase = admin.TabularInline
    _RulesAdminBase = admin.ModelAdmin


@admin.register(Clinic)
class ClinicAdmin(ClinicScopedAdmin[Clinic]):
    clinic_path = "pk"
    list_display = ("name", "jurisdiction", "time_zone", "protocol")

    def has_change_permission(self, request: HttpRequest, obj: Clinic | None = None) -> bool:
        return request.user.is_superuser


@admin.register(StaffMembership)
class StaffMembershipAdmin(ReadOnlyAdmin[StaffMembership]):
    list_display = ("user", "clinic", "role")
    list_select_related = ("user", "clinic")


@admin.register(Patient)
class PatientAdmin(ClinicScopedAdmin[Patient]):
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
    form = PatientForm

    @staticmethod
    def _live_feed(obj: Patient) -> CalendarFeed | None:
        return obj.calendar_feeds.filter(revoked_at__isnull=True).first() if obj.pk else None

    @admin.display(description="Calendar link")
    def calendar_link(self, obj: Patient) -> str:
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
    def calendar_link_state(self, obj: Patient) -> str:
        feed = self._live_feed(obj)
        return f"Live since {feed.created_at.date()}" if feed else "None"

    def _editable(self, request: HttpRequest, queryset: QuerySet[Patient]) -> list[Patient]:
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
    def send_calendar_link(self, request: HttpRequest, queryset: QuerySet[Patient]) -> None:
        patients, user = self._editable(request, queryset), staff_user(request)
        for patient in patients:
            calendar_feed_issue(patient=patient, issued_by=user)
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
    def revoke_calendar_link(self, request: HttpRequest, queryset: QuerySet[Patient]) -> None:
        stopped = sum(calendar_feed_revoke(patient=p) for p in self._editable(request, queryset))
        self.message_user(request, f"Stopped {stopped} calendar link(s).")

    def formfield_for_foreignkey(
        self, db_field: ForeignKey[Any, Any], request: HttpRequest, **kwargs: Any
    ) -> forms.ModelChoiceField[Any] | None:
        if db_field.name == "clinic":
            kwargs["queryset"] = clinics(request.user, Can.EDIT_PATIENTS)
        field: forms.ModelChoiceField[Any] | None = super().formfield_for_foreignkey(
            db_field, request, **kwargs
        )
        return field

    def get_readonly_fields(
        self, request: HttpRequest, obj: Patient | None = None
    ) -> tuple[str, ...]:
        if obj is None:
            return self.readonly_fields
        # The secret link only for roles that may rotate it (it outlives whoever has seen it);
        # a patient with a plan stays in their clinic (their courses and checks belong there).
        link = (
            "calendar_link" if self.has_change_permission(request, obj) else "calendar_link_state"
        )
        return (*self.readonly_fields, link, "clinic")

    def save_model(
        self, request: HttpRequest, obj: Patient, form: forms.ModelForm[Patient], change: bool
    ) -> None:
        version = form.cleaned_data.get("seen_version")
        patient_save(
            patient=obj,
            changed=[f for f in form.changed_data if f != "seen_version"],
            version=version,
        )

    change_form_template = "clinics/admin/patient_change_form.html"

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        patient = self.get_queryset(request).filter(pk=unquote(object_id)).first()
        extra = (
            {
                "overview": patient_overview(patient),
                "can": capabilities(request.user, patient.clinic_id),
            }
            if patient
            else {}
        )
        response: HttpResponse = super().change_view(
            request, object_id, form_url, {**extra, **(extra_context or {})}
        )
        return response

    def get_urls(self) -> list[URLPattern]:
        action = path(
            "action/<slug:name>/<uuid:uuid>/",
            self.admin_site.admin_view(partial(action_view, admin_site=self.admin_site)),
            name="clinics_patient_action",
        )
        urls: list[URLPattern] = super().get_urls()
        return [action, *urls]


class CheckInline(_CheckInlineBase):
    model = MonitoringCheck
    fields = ("kind", "due_date", "window_start", "window_end", "status", "verified", "why")
    readonly_fields = fields
    extra = 0
    can_delete = False
    ordering = ("due_date", "kind")

    def has_add_permission(self, request: HttpRequest, obj: TherapyCourse | None = None) -> bool:
        return False


@admin.register(TherapyCourse)
class TherapyCourseAdmin(ReadOnlyAdmin[TherapyCourse]):
    clinic_path = "patient__clinic"
    list_display = ("patient", "drug", "dose_code", "indication", "start_date", "status")
    list_select_related = ("patient", "drug")
    list_filter = ("status", "drug")
    inlines = [CheckInline]


@admin.register(MonitoringCheck)
class MonitoringCheckAdmin(ReadOnlyAdmin[MonitoringCheck]):
    clinic_path = "course__patient__clinic"
    list_display = ("course", "kind", "due_date", "window_end", "status", "verified")
    list_select_related = ("course__patient", "course__drug")
    list_filter = ("status", "kind")
    date_hierarchy = "due_date"


@admin.register(LabResult)
class LabResultAdmin(ReadOnlyAdmin[LabResult]):
    clinic_path = "course__patient__clinic"
    list_display = ("course", "analyte", "reading", "collected_on", "outcome_action")
    list_select_related = ("course__patient", "course__drug")


@admin.register(Finding)
class FindingAdmin(ReadOnlyAdmin[Finding]):
    """A finding, its results and the decision; "Record a decision" is the one way to act."""

    clinic_path = "course__patient__clinic"
    list_display = ("course", "collected_on", "action", "status", "decision", "escalated_at")
    list_select_related = ("course__patient", "course__drug")
    list_filter = ("status", "action")
    readonly_fields = ("decide", "results_reached")

    @admin.display(description="Decision")
    def decide(self, obj: Finding) -> str:
        if obj.status == FindingStatus.CLOSED:
            return f"{obj.get_decision_display()} ({obj.decision_note or 'no note'})"
        url = reverse("admin:clinics_patient_action", args=["decide-finding", obj.uuid])
        return format_html('<a class="button" href="{}">Record a decision</a>', url)

    @admin.display(description="Results")
    def results_reached(self, obj: Finding) -> str:
        rows = (
            (r.analyte, r.reading, "; ".join(f["text"] for f in r.outcome))
            for r in obj.results.order_by("id")
        )
        return format_html_join("", "<p>{} {}: {}</p>", rows)


@admin.register(InfectionReport)
class InfectionReportAdmin(ReadOnlyAdmin[InfectionReport]):
    clinic_path = "course__patient__clinic"
    list_display = ("course", "serious", "reporter", "reported_at", "resolved_at")
    list_select_related = ("course__patient", "course__drug")


@admin.register(Message)
class MessageAdmin(ReadOnlyAdmin[Message]):
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
class DrugAdmin(_RulesAdminBase):
    list_display: tuple[str, ...] = ("name", "code", "current_version")

    def has_change_permission(
        self, request: HttpRequest, obj: Drug | RuleSetVersion | None = None
    ) -> bool:
        return False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(
        self, request: HttpRequest, obj: Drug | RuleSetVersion | None = None
    ) -> bool:
        return False


@admin.register(RuleSetVersion)
class RuleSetVersionAdmin(DrugAdmin):
    list_display = ("kind", "code", "version", "loaded_at", "source_path")
    list_filter = ("kind", "code")

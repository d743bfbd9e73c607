"""The staff worklists (due now, overdue, results pending, coming up this week, paused, no next check, failed messages): rows from
`clinics.selectors.worklists`, paged, searchable by MRN and name, filterable by clinic and
downloadable as CSV."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from typing import Any, TypeVar

from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Model, QuerySet
from django.http import HttpRequest, StreamingHttpResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html

from ..core.dates import today_in
from ..core.vocab import LifecycleConflict
from ..models import (
    CourseWithoutNextCheck,
    DueNowCheck,
    DueThisWeekCheck,
    FailedMessage,
    Finding,
    Message,
    MonitoringCheck,
    OpenFinding,
    OverdueCheck,
    Patient,
    PausedCourse,
    ResultsPendingCheck,
    TherapyCourse,
)
from ..permissions import Can, scope
from ..selectors.messages import failure_reason
from ..selectors.worklists import (
    checks_due_now,
    checks_due_this_week,
    checks_results_pending,
    courses_without_next_check,
    failed_messages,
    findings_undecided,
    overdue_checks,
    paused_courses,
)
from ..services.outbox import message_requeue
from .scoped import ReadOnlyAdmin

_M = TypeVar("_M", bound=Model)


class WorklistAdmin(ReadOnlyAdmin[_M]):
    """A staff worklist: rows from `clinics.selectors.worklists`, paged, searchable by MRN and name,
    filterable by clinic, downloadable as CSV (the filtered list, not just the page)."""

    change_list_template = "clinics/admin/worklist_change_list.html"
    list_per_page = 100
    list_display_links = None
    csv_columns: tuple[tuple[str, str], ...] = ()
    patient_path = ""

    def worklist(self) -> QuerySet[_M]:
        raise NotImplementedError

    def get_queryset(self, request: HttpRequest) -> QuerySet[_M]:
        rows: QuerySet[_M] = scope(self.worklist(), request.user, self.clinic_path)
        return rows

    @admin.display(description="Patient")
    def patient_link(self, obj: _M) -> str:
        patient: Patient = _follow(obj, self.patient_path)
        url = reverse("admin:clinics_patient_change", args=[patient.pk])
        return format_html('<a href="{}">{}</a>', url, patient)

    def get_urls(self) -> list[URLPattern]:
        info = self.model._meta.app_label, self.model._meta.model_name
        export = path(
            "export.csv",
            self.admin_site.admin_view(self.export_csv),
            name="{}_{}_export".format(*info),
        )
        urls: list[URLPattern] = super().get_urls()
        return [export, *urls]

    def export_csv(self, request: HttpRequest) -> StreamingHttpResponse:
        """The list as filtered and searched on screen, every page; cells that a spreadsheet
        would run as a formula are quoted (CSV injection)."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        rows: QuerySet[_M] = self.get_changelist_instance(request).get_queryset(request)
        writer = csv.writer(_Echo())

        def lines() -> Iterator[str]:
            yield writer.writerow([header for header, _ in self.csv_columns])
            for obj in rows.iterator(chunk_size=500):
                yield writer.writerow([_cell(_follow(obj, attr)) for _, attr in self.csv_columns])

        name = f"{self.model._meta.model_name}-{today_in(settings.TIME_ZONE).isoformat()}.csv"
        response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response


class _Echo:
    def write(self, value: str) -> str:
        return value


def _follow(obj: object, dotted: str) -> Any:  # whatever the path leads to
    for part in dotted.split("."):
        obj = getattr(obj, part)
        obj = obj() if callable(obj) else obj
    return obj


def _cell(value: object) -> str:
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
    ("Sample taken", "sampled_on"),
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


class CheckWorklistAdmin(WorklistAdmin[MonitoringCheck]):
    clinic_path = "course__patient__clinic"
    patient_path = "course.patient"
    list_display = (
        "patient_link",
        "kind",
        "due_date",
        "window_start",
        "window_end",
        "status",
        "sampled_on",
        "course_drug",
        "why",
    )
    list_select_related = ("course__patient__clinic", "course__drug")
    list_filter = (("course__patient__clinic", admin.RelatedOnlyFieldListFilter), "kind")
    search_fields = ("course__patient__mrn", "course__patient__family_name")
    csv_columns = _CHECK_COLUMNS

    @admin.display(description="Drug")
    def course_drug(self, obj: MonitoringCheck) -> str:
        return obj.course.drug.name


class CourseWorklistAdmin(WorklistAdmin[TherapyCourse]):
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


@admin.register(OpenFinding)
class OpenFindingAdmin(WorklistAdmin[Finding]):
    """Findings awaiting a decision (escalated first); each row opens the finding to decide."""

    clinic_path = "course__patient__clinic"
    patient_path = "course.patient"
    list_display = (
        "patient_link",
        "finding_link",
        "collected_on",
        "status",
        "escalated_at",
        "opened_at",
    )
    list_select_related = ("course__patient__clinic", "course__drug")
    list_filter = (("course__patient__clinic", admin.RelatedOnlyFieldListFilter), "action")
    search_fields = ("course__patient__mrn", "course__patient__family_name")
    csv_columns = (
        ("MRN", "course.patient.mrn"),
        ("Family name", "course.patient.family_name"),
        ("Given name", "course.patient.given_name"),
        ("Clinic", "course.patient.clinic.name"),
        ("Finding", "get_action_display"),
        ("Collected", "collected_on"),
        ("Status", "get_status_display"),
        ("Escalated", "escalated_at"),
        ("Opened", "opened_at"),
    )

    def worklist(self) -> QuerySet[Finding]:
        return findings_undecided(model=self.model)

    @admin.display(description="Finding")
    def finding_link(self, obj: Finding) -> str:
        url = reverse("admin:clinics_finding_change", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, obj.get_action_display())


@admin.register(DueNowCheck)
class DueNowAdmin(CheckWorklistAdmin):
    def worklist(self) -> QuerySet[MonitoringCheck]:
        return checks_due_now(model=self.model)


@admin.register(ResultsPendingCheck)
class ResultsPendingAdmin(CheckWorklistAdmin):
    def worklist(self) -> QuerySet[MonitoringCheck]:
        return checks_results_pending(model=self.model)


@admin.register(DueThisWeekCheck)
class DueThisWeekAdmin(CheckWorklistAdmin):
    def worklist(self) -> QuerySet[MonitoringCheck]:
        return checks_due_this_week(model=self.model)


@admin.register(OverdueCheck)
class OverdueAdmin(CheckWorklistAdmin):
    def worklist(self) -> QuerySet[MonitoringCheck]:
        return overdue_checks(model=self.model)


@admin.register(PausedCourse)
class PausedCourseAdmin(CourseWorklistAdmin):
    def worklist(self) -> QuerySet[TherapyCourse]:
        return paused_courses(model=self.model)


@admin.register(CourseWithoutNextCheck)
class CourseWithoutNextCheckAdmin(CourseWorklistAdmin):
    def worklist(self) -> QuerySet[TherapyCourse]:
        return courses_without_next_check(model=self.model)


@admin.register(FailedMessage)
class FailedMessageAdmin(WorklistAdmin[Message]):
    """Messages that did not go out, safety messages first, each with why; staff requeue them
    once the address is fixed or the outage is over."""

    clinic_path = "clinic"
    patient_path = "patient"
    list_display = ("created_at", "kind", "recipient", "why_failed", "patient_mrn")
    list_select_related = ("patient", "clinic")
    list_filter = (("clinic", admin.RelatedOnlyFieldListFilter), "safety", "kind")
    actions = ["requeue"]
    search_fields = ("recipient", "patient__mrn")
    csv_columns = (
        ("Created", "created_at"),
        ("Kind", "get_kind_display"),
        ("Recipient", "recipient"),
        ("Clinic", "clinic.name"),
        ("Attempts", "attempts"),
        ("Last error", "last_error"),
    )

    def worklist(self) -> QuerySet[Message]:
        return failed_messages(model=self.model)

    @admin.display(description="MRN")
    def patient_mrn(self, obj: Message) -> str:
        return obj.patient.mrn if obj.patient else ""

    @admin.display(description="Why it failed")
    def why_failed(self, obj: Message) -> str:
        return failure_reason(obj)

    @admin.action(description="Requeue the selected messages (sent again at once)")
    def requeue(self, request: HttpRequest, queryset: QuerySet[Message]) -> None:
        allowed_rows = list(scope(queryset, request.user, "clinic", Can.RESEND_MESSAGES))
        requeued = 0
        for message in allowed_rows:
            try:
                message_requeue(message=message)
                requeued += 1
            except LifecycleConflict:  # requeued meanwhile, from another page
                pass
        self.message_user(request, f"{requeued} message(s) requeued.")
        refused = queryset.count() - len(allowed_rows)
        if refused:
            self.message_user(
                request,
                f"{refused} not requeued: your role does not allow it.",
                level=messages.WARNING,
            )

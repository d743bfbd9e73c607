"""Query filters of the API lists (django-filter): each names what it filters on, and a bad value
(an unknown status, a malformed date) is a 400 naming the parameter."""

from functools import reduce
from operator import or_

import django_filters as filters
from django.db.models import QuerySet

from ..core.units import ANALYTES
from ..core.vocab import (
    CareState,
    CheckKind,
    CheckStatus,
    CourseStatus,
    FindingStatus,
    MessageKind,
    MessageStatus,
    OutcomeAction,
)
from ..models import (
    Finding,
    InfectionReport,
    LabResult,
    Message,
    MonitoringCheck,
    Patient,
    TherapyCourse,
)
from ..selectors.worklists import courses_without_next_check, in_care_state
from .internals import StaticFormFilterSet


class PatientFilter(StaticFormFilterSet):
    clinic = filters.UUIDFilter(field_name="clinic__uuid")
    mrn = filters.CharFilter()

    class Meta:
        model = Patient
        fields = ["clinic", "mrn"]


class CourseFilter(StaticFormFilterSet):
    patient = filters.UUIDFilter(field_name="patient__uuid")
    drug = filters.CharFilter(field_name="drug__code")
    status = filters.MultipleChoiceFilter(distinct=False, choices=CourseStatus.choices())
    no_next_check = filters.BooleanFilter(
        method="filter_no_next_check", label="Active with no open check (the worklist)"
    )

    class Meta:
        model = TherapyCourse
        fields = ["patient", "drug", "status", "no_next_check"]

    def filter_no_next_check(
        self, queryset: QuerySet[TherapyCourse], name: str, value: bool
    ) -> QuerySet[TherapyCourse]:
        listed = queryset.filter(pk__in=courses_without_next_check().values("pk"))
        return listed if value else queryset.exclude(pk__in=listed.values("pk"))


class CheckFilter(StaticFormFilterSet):
    status = filters.MultipleChoiceFilter(distinct=False, choices=CheckStatus.choices())
    kind = filters.MultipleChoiceFilter(distinct=False, choices=CheckKind.choices())
    due_after = filters.DateFilter(
        field_name="due_date", lookup_expr="gte", label="Due on or after"
    )
    due_before = filters.DateFilter(
        field_name="due_date", lookup_expr="lte", label="Due on or before"
    )
    state = filters.MultipleChoiceFilter(
        method="filter_state",
        choices=CareState.choices(),
        label="Care state today (in the clinic's calendar): upcoming, due now, overdue, on hold",
    )
    course = filters.UUIDFilter(field_name="course__uuid")
    patient = filters.UUIDFilter(field_name="course__patient__uuid")

    class Meta:
        model = MonitoringCheck
        fields = ["status", "state", "kind", "due_after", "due_before", "course", "patient"]

    def filter_state(
        self, queryset: QuerySet[MonitoringCheck], name: str, value: list[str]
    ) -> QuerySet[MonitoringCheck]:
        if not value:
            return queryset
        return queryset.filter(reduce(or_, (in_care_state(CareState(v)) for v in value)))


class LabResultFilter(StaticFormFilterSet):
    course = filters.UUIDFilter(field_name="course__uuid")
    analyte = filters.ChoiceFilter(choices=[(a, a) for a in ANALYTES])
    outcome_action = filters.MultipleChoiceFilter(distinct=False, choices=OutcomeAction.choices())

    class Meta:
        model = LabResult
        fields = ["course", "analyte", "outcome_action"]


class InfectionReportFilter(StaticFormFilterSet):
    course = filters.UUIDFilter(field_name="course__uuid")
    resolved = filters.BooleanFilter(field_name="resolved_at", lookup_expr="isnull", exclude=True)

    class Meta:
        model = InfectionReport
        fields = ["course", "resolved"]


class FindingFilter(StaticFormFilterSet):
    course = filters.UUIDFilter(field_name="course__uuid")
    status = filters.MultipleChoiceFilter(distinct=False, choices=FindingStatus.choices())

    class Meta:
        model = Finding
        fields = ["course", "status"]


class MessageFilter(StaticFormFilterSet):
    patient = filters.UUIDFilter(field_name="patient__uuid")
    status = filters.MultipleChoiceFilter(distinct=False, choices=MessageStatus.choices())
    kind = filters.MultipleChoiceFilter(distinct=False, choices=MessageKind.choices())
    safety = filters.BooleanFilter(help_text="Safety messages (alerts), sent ahead of the rest")

    class Meta:
        model = Message
        fields = ["patient", "status", "kind", "safety"]

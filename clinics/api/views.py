"""API views: thin callers of the services, scoped and checked by the shared permission layer.

Every object is addressed by its UUID in the URL, so another clinic's object is 404 and a role
without the capability is 403, exactly as in the admin; writes on an object are actions on it
(`POST /courses/{uuid}/pause/`), so no request body can reach into another clinic.
"""

import json
from collections.abc import Callable
from typing import Any, TypeVar

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import F, Model, QuerySet
from django.http import HttpResponseBase
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.filters import SearchFilter
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import BaseSerializer
from rest_framework.utils.encoders import JSONEncoder
from rest_framework.views import APIView

from ..models import (
    Clinic,
    Drug,
    Finding,
    InfectionReport,
    LabResult,
    Message,
    MonitoringCheck,
    Patient,
    TherapyCourse,
)
from ..permissions import Can, allowed, is_active_staff, scope
from ..selectors.starts import course_start_preview, drugs_startable
from ..selectors.worklists import dashboard_counts
from ..services.calendar_feeds import calendar_feed_issue, calendar_feed_revoke
from ..services.checks import check_complete, check_sample_lost, check_sample_taken
from ..services.courses import (
    course_change_dose,
    course_mark_dose_stable,
    course_pause,
    course_resume,
    course_start,
    course_stop,
)
from ..services.finding_decisions import finding_decide
from ..services.idempotency import (
    HEADER,
    Replay,
    idempotent_request_begin,
    idempotent_request_finish,
)
from ..services.infections import infection_report, infection_resolve
from ..services.outbox import message_requeue
from ..services.patients import patient_save, patient_update
from ..services.reminders import reminder_resend
from ..services.results import ResultInput, lab_result_record
from . import filters
from . import serializers as s
from .internals import json_values
from .pagination import Pages
from .permissions import ClinicRole, IsStaff

UUID = "[0-9a-fA-F-]{36}"  # anything else in the place of an id is simply not found

_MT = TypeVar("_MT", bound=Model)
_F = TypeVar("_F", bound=Callable[..., Any])


def _staff(request: Request) -> User:
    """The signed-in staff member: the views' permission classes let no one else in."""
    user = request.user
    if not is_active_staff(user):  # not reached: IsStaff has refused the request already
        raise PermissionDenied()
    return user


class _Replayed(Exception):  # noqa: N818 - not an error: the way out of `initial` with a replay
    def __init__(self, replay: Replay) -> None:
        self.replay = replay


class ScopedViewSet(viewsets.GenericViewSet[_MT]):
    """Rows of the user's clinics (`clinic_path` leads from a row to its clinic); `capabilities`
    names what each action needs beyond seeing the row."""

    lookup_field = "uuid"
    lookup_value_regex = UUID
    clinic_path = "clinic"
    capabilities: dict[str, Can] = {}
    cursor_ordering: tuple[str, ...]  # the list's order for `Pages`, ending with the id
    permission_classes = [ClinicRole]
    filter_backends = [DjangoFilterBackend]
    pagination_class = Pages

    def get_queryset(self) -> QuerySet[_MT]:
        return scope(super().get_queryset(), self.request.user, self.clinic_path, literal=True)

    def dispatch(self, request: Any, *args: Any, **kwargs: Any) -> HttpResponseBase:
        """A POST with an `Idempotency-Key` runs in one transaction with the record of its
        answer, so a retry replays that answer and the work is done once."""
        if request.method != "POST" or HEADER not in request.headers:
            return super().dispatch(request, *args, **kwargs)
        with transaction.atomic():
            response = super().dispatch(request, *args, **kwargs)
            record = getattr(self, "_idempotent", None)
            if record is not None and response.status_code < 500:
                idempotent_request_finish(
                    record=record,
                    status_code=response.status_code,
                    # As the client saw it: UUIDs, dates and decimals as JSON text.
                    response=json.loads(
                        json.dumps(getattr(response, "data", None), cls=JSONEncoder)
                    ),
                )
            return response

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)  # signed in and allowed, before any key
        if request.method == "POST" and HEADER in request.headers:
            begun = idempotent_request_begin(
                user=_staff(request),
                key=request.headers[HEADER],
                method=request.method,
                path=request.get_full_path(),
                body=request.body,
            )
            if isinstance(begun, Replay):
                raise _Replayed(begun)
            self._idempotent = begun

    def handle_exception(self, exc: Exception) -> Response:
        if isinstance(exc, _Replayed):
            return Response(
                exc.replay.response,
                status=exc.replay.status_code,
                headers={"Idempotent-Replayed": "true"},
            )
        return super().handle_exception(exc)

    def clinic_id_of(self, obj: Model) -> int:
        *path, last = self.clinic_path.split("__")
        for part in path:
            obj = getattr(obj, part)
        clinic_id: int = obj.pk if last == "pk" else getattr(obj, f"{last}_id")
        return clinic_id

    def valid(self, serializer_class: type[serializers.Serializer[None]]) -> dict[str, Any]:
        """The request body, checked for shape and types (the services check the rules)."""
        serializer = serializer_class(data=self.request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        data: dict[str, Any] = serializer.validated_data
        return data

    def fresh(self, obj: _MT) -> _MT:
        """The object as stored now (after a service changed it), for the response."""
        return self.get_queryset().get(pk=obj.pk)


@extend_schema_view(list=extend_schema(summary="The clinics you belong to"))
class ClinicViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet[Clinic]):
    queryset = Clinic.objects.order_by("name")
    serializer_class = s.ClinicSerializer
    clinic_path = "pk"
    cursor_ordering = ("name", "id")

    @extend_schema(
        responses={200: s.StartableDrugSerializer(many=True)},
        summary="The drugs, doses and indications this clinic may start a course on",
    )
    @action(detail=True, methods=["get"], url_path="startable-drugs", pagination_class=None)
    def startable_drugs(self, request: Request, uuid: str | None = None) -> Response:
        startable = drugs_startable(clinic=self.get_object())
        return Response(s.StartableDrugSerializer(startable, many=True).data)  # type: ignore[arg-type]  # stubs#827, as the dashboard


class DashboardView(APIView):
    """The admin dashboard's worklist counts, per clinic of the user."""

    permission_classes = [IsStaff]

    @extend_schema(
        responses={200: s.DashboardSerializer(many=True)}, summary="Worklist counts per clinic"
    )
    def get(self, request: Request) -> Response:
        rows = dashboard_counts(user=request.user)
        # many=True takes the list: the stubs' Serializer() does not say so (a stubs gap,
        # typeddjango/djangorestframework-stubs#827).
        return Response(s.DashboardSerializer(rows, many=True).data)  # type: ignore[arg-type]


class PatientViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    ScopedViewSet[Patient],
):
    queryset = Patient.objects.select_related("clinic")
    filterset_class = filters.PatientFilter
    filter_backends = [DjangoFilterBackend, SearchFilter]
    search_fields = ["mrn", "family_name", "given_name"]
    cursor_ordering = ("-created_at", "-id")
    capabilities = {
        "update": Can.EDIT_PATIENTS,
        "partial_update": Can.EDIT_PATIENTS,
        "calendar_link": Can.EDIT_PATIENTS,
        "start_course": Can.MANAGE_COURSES,
        "preview_course": Can.MANAGE_COURSES,
    }

    def get_serializer_class(self) -> type[s.PatientSerializer]:
        if self.action in ("update", "partial_update"):
            return s.PatientUpdateSerializer
        if self.action == "retrieve":
            return s.PatientDetailSerializer
        return s.PatientSerializer

    def perform_create(self, serializer: BaseSerializer[Patient]) -> None:
        clinic = serializer.validated_data["clinic"]
        if not allowed(self.request.user, Can.EDIT_PATIENTS, clinic.pk):
            raise PermissionDenied("Your role in this clinic does not allow adding patients.")
        serializer.instance = patient_save(patient=Patient(**serializer.validated_data))

    def perform_update(self, serializer: BaseSerializer[Patient]) -> None:
        assert serializer.instance is not None  # update() gives the serializer the patient
        data = dict(serializer.validated_data)
        version = data.pop("version", None)
        patient_update(patient=serializer.instance, data=data, version=version)

    @extend_schema(
        request=None,
        responses={200: s.CalendarLinkSerializer, 204: None},
        summary="Send a new calendar link (POST; the old one stops) or stop it (DELETE)",
    )
    @action(detail=True, methods=["post", "delete"], url_path="calendar-link")
    def calendar_link(self, request: Request, uuid: str | None = None) -> Response:
        patient = self.get_object()
        if request.method == "DELETE":
            calendar_feed_revoke(patient=patient)
            return Response(status=status.HTTP_204_NO_CONTENT)
        feed = calendar_feed_issue(patient=patient, issued_by=_staff(request))
        return Response(s.CalendarLinkSerializer(s.CalendarLinkSerializer.of(feed)).data)

    def _start_kwargs(self) -> dict[str, Any]:
        patient = self.get_object()  # 404 and 403 before anything about the body
        return {"patient": patient, **self.valid(s.CourseStartSerializer)}

    @extend_schema(
        request=s.CourseStartSerializer,
        responses={201: s.CourseStartedSerializer},
        summary="Start a course: plans every check the drug's rules call for",
    )
    @action(detail=True, methods=["post"], url_path="start-course")
    def start_course(self, request: Request, uuid: str | None = None) -> Response:
        started = course_start(**self._start_kwargs(), started_by=_staff(request))
        return Response(s.CourseStartedSerializer(started).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=s.CourseStartSerializer,
        responses={200: s.StartPreviewSerializer},
        summary="What starting this course would plan and advise (nothing is saved)",
    )
    @action(detail=True, methods=["post"], url_path="preview-course")
    def preview_course(self, request: Request, uuid: str | None = None) -> Response:
        kwargs = self._start_kwargs()
        kwargs.pop("acknowledge_do_not_start")
        return Response(s.StartPreviewSerializer(course_start_preview(**kwargs)).data)


def _course_action(
    serializer_class: type[serializers.Serializer[None]], summary: str
) -> Callable[[_F], _F]:
    return extend_schema(
        request=serializer_class, responses={200: s.CourseSerializer}, summary=summary
    )


class CourseViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet[TherapyCourse]):
    queryset = TherapyCourse.objects.select_related("patient", "drug")
    serializer_class = s.CourseSerializer
    filterset_class = filters.CourseFilter
    clinic_path = "patient__clinic"
    cursor_ordering = ("-created_at", "-id")
    capabilities = {
        "pause": Can.MANAGE_COURSES,
        "resume": Can.MANAGE_COURSES,
        "change_dose": Can.MANAGE_COURSES,
        "mark_dose_stable": Can.MANAGE_COURSES,
        "stop": Can.MANAGE_COURSES,
        "lab_results": Can.MANAGE_COURSES,
        "report_infection": Can.REPORT_INFECTIONS,
    }

    def _done(self, course: TherapyCourse) -> Response:
        return Response(s.CourseSerializer(self.fresh(course)).data)

    @_course_action(s.PauseSerializer, "Pause (a clinician's decision or a lab result)")
    @action(detail=True, methods=["post"])
    def pause(self, request: Request, uuid: str | None = None) -> Response:
        course = self.get_object()
        course_pause(course=course, **self.valid(s.PauseSerializer))
        return self._done(course)

    @_course_action(s.ResumeSerializer, "Resume a paused course (its checks are re-planned)")
    @action(detail=True, methods=["post"])
    def resume(self, request: Request, uuid: str | None = None) -> Response:
        course = self.get_object()
        course_resume(course=course, **self.valid(s.ResumeSerializer))
        return self._done(course)

    @_course_action(s.DoseChangeSerializer, "Change the dose")
    @action(detail=True, methods=["post"], url_path="change-dose")
    def change_dose(self, request: Request, uuid: str | None = None) -> Response:
        course = self.get_object()
        course_change_dose(
            course=course, changed_by=_staff(request), **self.valid(s.DoseChangeSerializer)
        )
        return self._done(course)

    @_course_action(s.DoseStableSerializer, "Mark the dose stable (ends until-stable checks)")
    @action(detail=True, methods=["post"], url_path="mark-dose-stable")
    def mark_dose_stable(self, request: Request, uuid: str | None = None) -> Response:
        course = self.get_object()
        course_mark_dose_stable(course=course, **self.valid(s.DoseStableSerializer))
        return self._done(course)

    @_course_action(s.StopSerializer, "Stop the course for good (open checks are cancelled)")
    @action(detail=True, methods=["post"])
    def stop(self, request: Request, uuid: str | None = None) -> Response:
        course = self.get_object()
        data = self.valid(s.StopSerializer)
        course_stop(
            course=course,
            reason=data["reason"],
            stopped_on=data["stopped_on"],
            note=data["note"],
            version=data["version"],
        )
        return self._done(course)

    @extend_schema(
        request=s.InfectionReportCreateSerializer,
        responses={201: s.InfectionReportSerializer},
        summary="Report an infection: pauses the course and alerts staff and patient",
    )
    @action(detail=True, methods=["post"], url_path="report-infection")
    def report_infection(self, request: Request, uuid: str | None = None) -> Response:
        course = self.get_object()
        reported = infection_report(
            course=course,
            reported_by=_staff(request),
            **self.valid(s.InfectionReportCreateSerializer),
        )
        return Response(
            s.InfectionReportSerializer(reported.report).data, status=status.HTTP_201_CREATED
        )

    @extend_schema(
        request=s.LabResultCreateSerializer,
        responses={201: s.ResultOutcomeSerializer},
        summary="Record a lab result: returns the threshold outcome with rule text and source",
    )
    @action(detail=True, methods=["post"], url_path="lab-results")
    def lab_results(self, request: Request, uuid: str | None = None) -> Response:
        course = self.get_object()
        data = self.valid(s.LabResultCreateSerializer)
        check = data.pop("check")
        if check is not None:
            check = course.checks.filter(uuid=check).first()
            if check is None:
                raise ValidationError({"check": "No such check in this course."})
        recorded = lab_result_record(
            course=course, monitoring_check=check, recorded_by=_staff(request), **data
        )
        return Response(s.ResultOutcomeSerializer(recorded).data, status=status.HTTP_201_CREATED)


class CheckViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet[MonitoringCheck]
):
    queryset = MonitoringCheck.objects.annotate(
        course_uuid=F("course__uuid"), patient_uuid=F("course__patient__uuid")
    )
    serializer_class = s.CheckSerializer
    filterset_class = filters.CheckFilter
    clinic_path = "course__patient__clinic"
    cursor_ordering = ("due_date", "id")
    capabilities = {
        "complete": Can.COMPLETE_CHECKS,
        "sample_taken": Can.COMPLETE_CHECKS,
        "sample_lost": Can.COMPLETE_CHECKS,
        "send_reminder": Can.RESEND_MESSAGES,
    }
    # The list's rows: `CheckSerializer`'s fields and the cursor's id, named once, not per request.
    rows: QuerySet[MonitoringCheck, dict[str, Any]] = json_values(
        queryset, {**s.CheckSerializer.plain_columns(), "id": "id"}
    )

    def get_queryset(self) -> QuerySet[MonitoringCheck, Any]:  # the list's rows are dicts
        if self.action == "list":
            return scope(self.rows.all(), self.request.user, self.clinic_path, literal=True)
        return super().get_queryset()

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """The hot path (other systems poll it): rows read as plain values, ready for the JSON
        renderer, in exactly `CheckSerializer`'s shape (a test holds the two equal), no model
        objects to build."""
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        assert page is not None  # Pages always gives a page
        for row in page:
            del row["id"]  # the cursor's (the paginator has read it), not the API's
        return self.get_paginated_response(page)

    @extend_schema(
        request=s.CheckSampleTakenSerializer,
        responses={200: s.CheckSerializer},
        summary="Record that the sample was taken: the check waits for its results",
    )
    @action(detail=True, methods=["post"], url_path="sample-taken")
    def sample_taken(self, request: Request, uuid: str | None = None) -> Response:
        data = self.valid(s.CheckSampleTakenSerializer)
        check = check_sample_taken(check=self.get_object(), sampled_on=data["sampled_on"])
        return Response(s.CheckSerializer(self.fresh(check)).data)

    @extend_schema(
        request=None,
        responses={200: s.CheckSerializer},
        summary="The sample was lost: the check is to do again",
    )
    @action(detail=True, methods=["post"], url_path="sample-lost")
    def sample_lost(self, request: Request, uuid: str | None = None) -> Response:
        check = check_sample_lost(check=self.get_object())
        return Response(s.CheckSerializer(self.fresh(check)).data)

    @extend_schema(
        request=s.CheckCompleteSerializer,
        responses={200: s.CheckCompletedSerializer},
        summary="Record a check as done with its results (each evaluated against the thresholds)",
    )
    @action(detail=True, methods=["post"])
    def complete(self, request: Request, uuid: str | None = None) -> Response:
        check = self.get_object()
        data = self.valid(s.CheckCompleteSerializer)
        done = check_complete(
            check=check,
            completed_on=data["completed_on"],
            completed_by=_staff(request),
            results=[ResultInput(**r) for r in data["results"]],
            missing=data["missing"],
            confirm_outside_window=data["confirm_outside_window"],
        )
        body = {"check": self.fresh(check), "action": done.action, "results": done.results}
        return Response(s.CheckCompletedSerializer(body).data)

    @extend_schema(
        request=None,
        responses={200: s.MessageSerializer},
        summary="Email the patient a reminder for this check now",
    )
    @action(detail=True, methods=["post"], url_path="send-reminder")
    def send_reminder(self, request: Request, uuid: str | None = None) -> Response:
        message = reminder_resend(check=self.get_object(), requested_by=_staff(request))
        return Response(s.MessageSerializer(message).data)


class LabResultViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet[LabResult]):
    queryset = LabResult.objects.select_related("course", "monitoring_check")
    serializer_class = s.LabResultSerializer
    filterset_class = filters.LabResultFilter
    clinic_path = "course__patient__clinic"
    cursor_ordering = ("-recorded_at", "-id")


class InfectionReportViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet[InfectionReport]
):
    queryset = InfectionReport.objects.select_related("course")
    serializer_class = s.InfectionReportSerializer
    filterset_class = filters.InfectionReportFilter
    clinic_path = "course__patient__clinic"
    cursor_ordering = ("-reported_at", "-id")
    capabilities = {"resolve": Can.MANAGE_COURSES}

    @extend_schema(
        request=s.InfectionResolveSerializer,
        responses={200: s.InfectionReportSerializer},
        summary="Mark the infection resolved with its outcome (a clinician may then resume)",
    )
    @action(detail=True, methods=["post"])
    def resolve(self, request: Request, uuid: str | None = None) -> Response:
        report = infection_resolve(
            report=self.get_object(),
            resolved_by=_staff(request),
            **self.valid(s.InfectionResolveSerializer),
        )
        return Response(s.InfectionReportSerializer(report).data)


class FindingViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet[Finding]):
    """Results beyond a threshold, open until a clinician decides (`?status=open&status=repeat_ordered`
    is the findings list)."""

    queryset = Finding.objects.select_related("course", "monitoring_check", "repeat_check")
    serializer_class = s.FindingSerializer
    filterset_class = filters.FindingFilter
    clinic_path = "course__patient__clinic"
    cursor_ordering = ("opened_at", "id")
    capabilities = {"decide": Can.MANAGE_COURSES}

    @extend_schema(
        request=s.FindingDecideSerializer,
        responses={200: s.FindingSerializer},
        summary="Record a decision: pause, repeat test, continue (with a note) or stop",
    )
    @action(detail=True, methods=["post"])
    def decide(self, request: Request, uuid: str | None = None) -> Response:
        finding = finding_decide(
            finding=self.get_object(),
            decided_by=_staff(request),
            **self.valid(s.FindingDecideSerializer),
        )
        return Response(s.FindingSerializer(self.fresh(finding)).data)


class MessageViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet[Message]):
    queryset = Message.objects.select_related("patient", "course")
    serializer_class = s.MessageSerializer
    filterset_class = filters.MessageFilter
    cursor_ordering = ("-created_at", "-id")
    capabilities = {"requeue": Can.RESEND_MESSAGES}

    @extend_schema(
        request=None,
        responses={200: s.MessageSerializer},
        summary="Put a failed message back in the queue (sent at once, retried again)",
    )
    @action(detail=True, methods=["post"])
    def requeue(self, request: Request, uuid: str | None = None) -> Response:
        message = message_requeue(message=self.get_object())
        return Response(s.MessageSerializer(self.fresh(message)).data)


class DrugViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet[Drug]):
    """The drug rules as loaded, with every rule's source (the same for every clinic)."""

    queryset = Drug.objects.select_related("current_version").order_by("name")
    permission_classes = [IsStaff]
    lookup_field = "code"
    lookup_value_regex = "[a-z]+"
    pagination_class = None

    def get_serializer_class(self) -> type[s.DrugSerializer]:
        return s.DrugRulesSerializer if self.action == "retrieve" else s.DrugSerializer

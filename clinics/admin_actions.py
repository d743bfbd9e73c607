"""Staff actions on a patient's courses and reports, as admin pages: a form, then the service.

Each action names the capability it needs (`clinics.permissions`). The object is looked up in
the user's own clinics only (another clinic's id answers 404), and a role without the capability
gets 403, whatever the page showed. Errors from the services come back on the form, under the
field they name; nothing is half done (the services are transactional).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse

from .models import InfectionReport, TherapyCourse
from .permissions import Can, allowed, scope
from .services.courses import course_resume, course_stop
from .services.infections import infection_report, infection_resolve


class InfectionForm(forms.Form):
    serious = forms.BooleanField(
        required=False, help_text="Serious: needing hospital care or intravenous antibiotics"
    )
    description = forms.CharField(
        required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )


class ResumeForm(forms.Form):
    resumed_on = forms.DateField(help_text="Back on the drug from this day")


class StopForm(forms.Form):
    stop_reason = forms.ChoiceField(choices=TherapyCourse.StopReason.choices, label="Reason")
    stopped_on = forms.DateField()
    note = forms.CharField(
        required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )


class ConfirmForm(forms.Form):
    pass


@dataclass(frozen=True)
class Action:
    title: str
    model: type
    clinic_path: str
    capability: Can
    form: type[forms.Form]
    run: Callable  # (obj, cleaned data, user) -> str (what to tell the user)
    explanation: str = ""


def _report(course, data, user) -> str:
    infection_report(course=course, reporter="staff", reported_by=user, **data)
    return "Infection recorded: the course is paused and the clinic's staff and the patient are being alerted."


def _resume(course, data, user) -> str:
    course_resume(course=course, resumed_on=data["resumed_on"])
    return "Course resumed: its checks are re-planned and the patient is sent the new dates."


def _stop(course, data, user) -> str:
    course_stop(
        course=course, reason=data["stop_reason"], stopped_on=data["stopped_on"], note=data["note"]
    )
    return "Course stopped: its open checks are cancelled."


def _resolve(report, data, user) -> str:
    infection_resolve(report=report, resolved_by=user)
    return "Infection marked resolved. A clinician can now resume the course."


ACTIONS: dict[str, Action] = {
    "report-infection": Action(
        "Report an infection", TherapyCourse, "patient__clinic", Can.REPORT_INFECTIONS, InfectionForm, _report,
        "The course is paused at once, its checks go on hold, and the clinic's staff and the patient "
        "are alerted by email. A clinician decides when to resume.",
    ),
    "resume": Action("Resume the course", TherapyCourse, "patient__clinic", Can.MANAGE_COURSES, ResumeForm, _resume),
    "stop": Action("Stop the course", TherapyCourse, "patient__clinic", Can.MANAGE_COURSES, StopForm, _stop),
    "resolve-infection": Action(
        "Mark the infection resolved", InfectionReport, "course__patient__clinic", Can.MANAGE_COURSES,
        ConfirmForm, _resolve,
    ),
}  # fmt: skip


def _patient_of(obj):
    return obj.patient if isinstance(obj, TherapyCourse) else obj.course.patient


def action_view(request, admin_site, name: str, uuid):
    action = ACTIONS.get(name)
    if action is None:
        raise Http404
    obj = (
        scope(action.model.objects.all(), request.user, action.clinic_path)
        .filter(uuid=uuid)
        .first()
    )
    if obj is None:
        raise Http404
    patient = _patient_of(obj)
    if not allowed(request.user, action.capability, patient.clinic_id):
        raise PermissionDenied
    today = patient.clinic.today()  # the clinic's date, not the server's
    form = action.form(
        request.POST if request.method == "POST" else None,
        initial={"resumed_on": today, "stopped_on": today},
    )
    if request.method == "POST" and form.is_valid():
        try:
            done = action.run(obj, form.cleaned_data, request.user)
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            messages.success(request, done)
            return redirect(reverse("admin:clinics_patient_change", args=[patient.pk]))
    context = {
        **admin_site.each_context(request),
        "title": f"{action.title}: {patient.mrn} {patient}",
        "action": action,
        "form": form,
        "subject": obj,
        "patient": patient,
        "opts": patient._meta,
    }
    return TemplateResponse(request, "clinics/admin/action_form.html", context)

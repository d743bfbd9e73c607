"""Staff actions on a patient, their courses, checks and reports, as admin pages: a form, then the
service (actions that need a look before saving, such as starting a course, show a preview first).

Each action names the capability it needs (`clinics.permissions`). The object is looked up in
the user's own clinics only (another clinic's id answers 404), and a role without the capability
gets 403, whatever the page showed. Errors from the services come back on the form, under the
field they name; nothing is half done (the services are transactional).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse

from .models import CoursePause, Drug, InfectionReport, MonitoringCheck, Patient, TherapyCourse
from .permissions import Can, allowed, scope
from .services.checks import check_complete
from .services.courses import (
    course_change_dose,
    course_pause,
    course_resume,
    course_start,
    course_start_preview,
    course_stop,
)
from .services.feeds import calendar_feed_issue
from .services.infections import infection_report, infection_resolve
from .services.notifications import reminder_resend
from .services.results import ResultInput
from .services.rules import drug_rules
from .units import ANALYTE_NAMES, accepted_units

Said = list[tuple[int, str]]  # what to tell the user: (message level, text)


class ActionForm(forms.Form):
    """Every action form knows the object it acts on (for choices that depend on it)."""

    def __init__(self, *args, subject, **kwargs):
        self.subject = subject
        super().__init__(*args, **kwargs)

    def field_for(self, key: str) -> str | None:
        """The form field a service error names (None: an error for the whole form)."""
        return key if key in self.fields else None


def _date(**kwargs) -> forms.DateField:
    """A date picker; its value is ISO 8601 whatever the browser's language."""
    return forms.DateField(
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"), **kwargs
    )


def _textarea(label: str = "Note") -> forms.CharField:
    return forms.CharField(
        label=label, required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )


class ConfirmForm(ActionForm):
    pass


class InfectionForm(ActionForm):
    serious = forms.BooleanField(
        required=False, help_text="Serious: needing hospital care or intravenous antibiotics"
    )
    description = _textarea("Description")


class PauseForm(ActionForm):
    reason = forms.ChoiceField(
        choices=[c for c in CoursePause.Reason.choices if c[0] != CoursePause.Reason.INFECTION],
        help_text="For an infection, use “Report an infection”: it alerts staff and the patient.",
    )
    paused_on = _date(help_text="Off the drug from this day")
    note = _textarea()


class ResumeForm(ActionForm):
    resumed_on = _date(help_text="Back on the drug from this day")


class StopForm(ActionForm):
    stop_reason = forms.ChoiceField(choices=TherapyCourse.StopReason.choices, label="Reason")
    stopped_on = _date()
    note = _textarea()


class DoseForm(ActionForm):
    dose_code = forms.ChoiceField(label="New dose")
    effective_on = _date()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        course = self.subject
        self.fields["dose_code"].choices = [
            (d.code, d.label)
            for d in drug_rules(drug=course.drug).doses
            if d.applies(
                jurisdiction=course.patient.clinic.jurisdiction, indication=course.indication
            )
            and d.code != course.dose_code
        ]


class StartCourseForm(ActionForm):
    """The drug's own doses and indications; the service checks that they go together."""

    drug = forms.ModelChoiceField(queryset=Drug.objects.none())
    dose = forms.ChoiceField(help_text="Doses are grouped by drug")
    indication = forms.ChoiceField()
    start_date = _date(help_text="First dose (a later date plans the course ahead)")
    renal_value = forms.DecimalField(
        required=False,
        min_value=0,
        max_digits=6,
        decimal_places=1,
        help_text="Optional: for the label's renal dose advice",
    )
    renal_measure = forms.ChoiceField(
        required=False, choices=[("", "—"), *TherapyCourse.RenalMeasure.choices]
    )
    acknowledge_do_not_start = forms.BooleanField(
        required=False,
        label="Prescriber has reviewed",
        help_text="Needed only when a recent result reaches one of the drug's do-not-start "
        "thresholds (shown in the preview).",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        jurisdiction = self.subject.clinic.jurisdiction
        drugs = [d for d in Drug.objects.order_by("name") if jurisdiction in d.jurisdictions]
        self.fields["drug"].queryset = Drug.objects.filter(pk__in=[d.pk for d in drugs])
        doses, indications = [], {}
        for drug in drugs:
            rules = drug_rules(drug=drug)
            group = [
                (f"{drug.code}:{d.code}", d.label)
                for d in rules.doses
                if d.jurisdictions is None or jurisdiction in d.jurisdictions
            ]
            doses.append((drug.name, group))
            indications.update({i.code: i.name for i in rules.drug.indications})
        self.fields["dose"].choices = [("", "—"), *doses]
        self.fields["indication"].choices = [
            ("", "—"),
            *sorted(indications.items(), key=lambda i: i[1]),
        ]

    def clean(self):
        data = super().clean()
        drug, dose = data.get("drug"), data.get("dose", "")
        if drug and dose:
            drug_code, _, data["dose_code"] = dose.partition(":")
            if drug_code != drug.code:
                self.add_error("dose", f"That dose is not a {drug.name} dose.")
        return data

    def field_for(self, key: str) -> str | None:
        return "dose" if key == "dose_code" else super().field_for(key)

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        return {
            "patient": self.subject,
            "drug": data["drug"],
            "dose_code": data["dose_code"],
            "indication": data["indication"],
            "start_date": data["start_date"],
            "renal_value": data["renal_value"],
            "renal_measure": data["renal_measure"],
        }


class CompleteCheckForm(ActionForm):
    """The date the check was done and a value and unit for each analyte it measures (leave
    blank what was not measured)."""

    completed_on = _date(label="Done on", help_text="The day the sample was taken")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for analyte in self.subject.analytes:
            units = accepted_units(analyte)
            name = ANALYTE_NAMES[analyte]
            self.fields[f"value_{analyte}"] = forms.CharField(
                label=name, required=False, max_length=30
            )
            self.fields[f"unit_{analyte}"] = forms.CharField(
                label=f"{name}: unit",
                required=False,
                max_length=20,
                initial=units[0] if len(units) == 1 else "",
                help_text=f"One of: {', '.join(units)}" if units else "As the lab reports it",
            )

    def clean(self):
        data = super().clean()
        for analyte in self.subject.analytes:
            if data.get(f"value_{analyte}") and not data.get(f"unit_{analyte}"):
                self.add_error(f"unit_{analyte}", "Give the unit of this result.")
        return data

    def results(self) -> list[ResultInput]:
        data = self.cleaned_data
        return [
            ResultInput(a, data[f"value_{a}"], data[f"unit_{a}"])
            for a in self.subject.analytes
            if data.get(f"value_{a}")
        ]

    def field_for(self, key: str) -> str | None:
        """The form field of a service error key such as `results[1].unit`."""
        if key.startswith("results[") and "]." in key:
            index, name = key[len("results[") :].split("].", 1)
            analyte = self.results()[int(index)].analyte
            return f"{'value' if name == 'value' else 'unit'}_{analyte}"
        return super().field_for(key)


@dataclass(frozen=True)
class Action:
    title: str
    model: type
    clinic_path: str
    capability: Can
    form: type[ActionForm]
    run: Callable[[object, ActionForm, object], Said]  # (obj, valid form, user)
    explanation: str = ""
    # Shown before saving, and again whenever the form changed since it was last shown.
    preview: Callable[[object, ActionForm], object] | None = None


def _done(text: str) -> Said:
    return [(messages.SUCCESS, text)]


def _report(course, form, user) -> Said:
    infection_report(course=course, reporter="staff", reported_by=user, **form.cleaned_data)
    return _done(
        "Infection recorded: the course is paused and the clinic's staff and the patient are "
        "being alerted."
    )


def _pause(course, form, user) -> Said:
    course_pause(course=course, **form.cleaned_data)
    return _done("Course paused: its open checks are on hold and reminders stop.")


def _resume(course, form, user) -> Said:
    course_resume(course=course, resumed_on=form.cleaned_data["resumed_on"])
    return _done("Course resumed: its checks are re-planned and the patient is sent the new dates.")


def _stop(course, form, user) -> Said:
    data = form.cleaned_data
    course_stop(
        course=course, reason=data["stop_reason"], stopped_on=data["stopped_on"], note=data["note"]
    )
    return _done("Course stopped: its open checks are cancelled.")


def _change_dose(course, form, user) -> Said:
    course_change_dose(course=course, changed_by=user, **form.cleaned_data)
    return _done("Dose changed: the plan follows the new dose.")


def _resolve(report, form, user) -> Said:
    infection_resolve(report=report, resolved_by=user)
    return _done("Infection marked resolved. A clinician can now resume the course.")


def _start(patient, form, user) -> Said:
    started = course_start(
        **form.service_kwargs(),
        started_by=user,
        acknowledge_do_not_start=form.cleaned_data["acknowledge_do_not_start"],
    )
    said = _done(f"Course started: {started.checks_planned} checks planned.")
    said += [(messages.WARNING, f"Dose advice: {a.text} ({a.source})") for a in started.advice]
    return said


def _complete(check, form, user) -> Said:
    done = check_complete(
        check=check,
        completed_on=form.cleaned_data["completed_on"],
        results=form.results(),
        completed_by=user,
    )
    said = _done(f"{done.check.get_kind_display()} recorded as done on {done.check.completed_on}.")
    for recorded in done.results:
        result, outcome = recorded.result, recorded.outcome
        head = f"{ANALYTE_NAMES[result.analyte]} {result.value_text} {result.unit}: "
        if not outcome.findings:
            said.append((messages.INFO, head + "no threshold reached."))
        for found in outcome.findings:
            level = messages.INFO if outcome.action in ("none", "advise") else messages.WARNING
            said.append(
                (
                    level,
                    f"{head}{result.get_outcome_action_display()}. {found.text} "
                    f"(rule {found.rule_id}; {found.source})",
                )
            )
    if done.action in ("interrupt", "discontinue"):
        said.append((messages.WARNING, "The clinic's staff are being alerted; clinicians decide."))
    return said


def _send_reminder(check, form, user) -> Said:
    reminder_resend(check=check, requested_by=user)
    return _done("Reminder queued: it goes out within a minute.")


def _calendar_link(patient, form, user) -> Said:
    calendar_feed_issue(patient=patient, issued_by=user)
    where = "emailed to the patient" if patient.email else "shown on this page (no email address)"
    return _done(f"New calendar link {where}; the old link has stopped working.")


COURSE = (TherapyCourse, "patient__clinic")
ACTIONS: dict[str, Action] = {
    "start-course": Action(
        "Start a course",
        Patient,
        "clinic",
        Can.MANAGE_COURSES,
        StartCourseForm,
        _start,
        "The preview shows every check the drug's rules plan, the label's renal and age dose "
        "advice, and the drug's do-not-start thresholds with the patient's recent results.",
        preview=lambda patient, form: course_start_preview(**form.service_kwargs()),
    ),
    "report-infection": Action(
        "Report an infection",
        *COURSE,
        Can.REPORT_INFECTIONS,
        InfectionForm,
        _report,
        "The course is paused at once, its checks go on hold, and the clinic's staff and the patient "
        "are alerted by email. A clinician decides when to resume.",
    ),
    "pause": Action("Pause the course", *COURSE, Can.MANAGE_COURSES, PauseForm, _pause),
    "resume": Action("Resume the course", *COURSE, Can.MANAGE_COURSES, ResumeForm, _resume),
    "change-dose": Action("Change the dose", *COURSE, Can.MANAGE_COURSES, DoseForm, _change_dose),
    "stop": Action("Stop the course", *COURSE, Can.MANAGE_COURSES, StopForm, _stop),
    "resolve-infection": Action(
        "Mark the infection resolved",
        InfectionReport,
        "course__patient__clinic",
        Can.MANAGE_COURSES,
        ConfirmForm,
        _resolve,
    ),
    "complete-check": Action(
        "Record a check as done",
        MonitoringCheck,
        "course__patient__clinic",
        Can.COMPLETE_CHECKS,
        CompleteCheckForm,
        _complete,
        "Each result is checked against the drug's thresholds; the outcome is shown with the "
        "rule's text and source, and results that call for an interruption alert the staff.",
    ),
    "send-reminder": Action(
        "Send a reminder now",
        MonitoringCheck,
        "course__patient__clinic",
        Can.RESEND_MESSAGES,
        ConfirmForm,
        _send_reminder,
        "The patient is emailed a reminder for this check (and any others due the same day).",
    ),
    "calendar-link": Action(
        "Send a new calendar link",
        Patient,
        "clinic",
        Can.EDIT_PATIENTS,
        ConfirmForm,
        _calendar_link,
        "The patient's current calendar link stops working at once.",
    ),
}


def _patient_of(obj) -> Patient:
    if isinstance(obj, Patient):
        return obj
    if isinstance(obj, TherapyCourse):
        return obj.patient
    return obj.course.patient


def _fingerprint(form: ActionForm) -> str:
    """What the preview was shown for: confirming anything else shows the preview again."""
    data = sorted(
        (k, str(v)) for k, v in form.cleaned_data.items() if k != "acknowledge_do_not_start"
    )
    return hashlib.sha256(repr(data).encode()).hexdigest()


def _say(request, said: Iterable[tuple[int, str]]) -> None:
    for level, text in said:
        messages.add_message(request, level, text)


def action_view(request, admin_site, name: str, uuid):
    action = ACTIONS.get(name)
    if action is None:
        raise Http404
    scoped = scope(action.model.objects.all(), request.user, action.clinic_path)
    obj = scoped.filter(uuid=uuid).first()
    if obj is None:
        raise Http404
    patient = _patient_of(obj)
    if not allowed(request.user, action.capability, patient.clinic_id):
        raise PermissionDenied
    today = patient.clinic.today()  # the clinic's date, not the server's
    initial = {
        "resumed_on": today,
        "stopped_on": today,
        "paused_on": today,
        "effective_on": today,
        "start_date": today,
        "completed_on": today,
    }
    form = action.form(
        request.POST if request.method == "POST" else None, initial=initial, subject=obj
    )
    preview = previewed = None
    if request.method == "POST" and form.is_valid():
        confirmed = action.preview is None or (
            "_confirm" in request.POST and request.POST.get("_previewed") == _fingerprint(form)
        )
        try:
            if action.preview is not None:  # validates as the service does, writes nothing
                preview, previewed = action.preview(obj, form), _fingerprint(form)
            if confirmed:
                _say(request, action.run(obj, form, request.user))
                return redirect(reverse("admin:clinics_patient_change", args=[patient.pk]))
        except ValidationError as exc:
            for key, errors in exc.message_dict.items():
                form.add_error(form.field_for(key), errors)
    context = {
        **admin_site.each_context(request),
        "title": f"{action.title}: {patient}",
        "action": action,
        "form": form,
        "subject": obj,
        "patient": patient,
        "has_preview": action.preview is not None,
        "preview": preview,
        "previewed": previewed,
        "opts": patient._meta,
    }
    return TemplateResponse(request, "clinics/admin/action_form.html", context)

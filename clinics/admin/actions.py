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
from typing import Any, Generic, TypeVar
from uuid import UUID

from django.contrib import messages
from django.contrib.admin import AdminSite
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Model
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse

from ..core.units import ANALYTE_NAMES
from ..core.vocab import OutcomeAction, Reporter
from ..models import Finding, InfectionReport, MonitoringCheck, Patient, TherapyCourse
from ..permissions import Can, allowed, scope
from ..selectors.infections import infection_report_preview
from ..selectors.plans import course_contraception
from ..selectors.starts import course_start_preview
from ..services.calendar_feeds import calendar_feed_issue
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
from ..services.infections import infection_report, infection_resolve
from ..services.reminders import reminder_resend
from .forms import (
    ActionForm,
    CompleteCheckForm,
    ConfirmForm,
    DecideFindingForm,
    DoseForm,
    DoseStableForm,
    PauseForm,
    ResolveInfectionForm,
    ResumeForm,
    SampleTakenForm,
    StaffInfectionForm,
    StartCourseForm,
    StopForm,
)
from .scoped import staff_user

Said = list[tuple[int, str]]  # what to tell the user: (message level, text)
Subject = Patient | TherapyCourse | InfectionReport | MonitoringCheck | Finding  # acted on

_S = TypeVar("_S", bound=Model)
_F = TypeVar("_F", bound=ActionForm[Any])


@dataclass(frozen=True)
class Action(Generic[_S, _F]):
    title: str
    model: type[_S]
    clinic_path: str
    capability: Can
    form: type[_F]
    run: Callable[[_S, _F, User], Said]  # (obj, valid form, user)
    explanation: str = ""
    # Shown before saving, and again whenever the form changed since it was last shown.
    preview: Callable[[_S, _F], object] | None = None
    preview_template: str = "clinics/admin/start_preview.html"
    preview_button: str = "Show the plan"


def _done(text: str) -> Said:
    return [(messages.SUCCESS, text)]


def _report(course: TherapyCourse, form: StaffInfectionForm, user: User) -> Said:
    infection_report(course=course, reporter=Reporter.STAFF, reported_by=user, **form.cleaned_data)
    return _done(
        "Infection recorded: the course is paused and the clinic's staff and the patient are "
        "being alerted."
    )


def _pause(course: TherapyCourse, form: PauseForm, user: User) -> Said:
    course_pause(course=course, **form.cleaned_data)
    return _done("Course paused: its open checks are on hold and reminders stop.")


def _resume(course: TherapyCourse, form: ResumeForm, user: User) -> Said:
    course_resume(course=course, **form.cleaned_data)
    return _done("Course resumed: its checks are re-planned and the patient is sent the new dates.")


def _stop(course: TherapyCourse, form: StopForm, user: User) -> Said:
    data = form.cleaned_data
    course_stop(
        course=course,
        reason=data["stop_reason"],
        stopped_on=data["stopped_on"],
        note=data["note"],
        version=data["version"],
    )
    said = _done("Course stopped: its open checks are cancelled.")
    contraception = course_contraception(course=course)
    if contraception is not None:
        flag = "" if contraception.verified else ", unverified"
        said.append(
            (
                messages.WARNING,
                f"Contraception after the last dose: {contraception.text} Until "
                f"{contraception.until} (rule {contraception.rule_id}{flag}; "
                f"{contraception.source}). A consenting patient is emailed this.",
            )
        )
    return said


def _dose_stable(course: TherapyCourse, form: DoseStableForm, user: User) -> Said:
    course_mark_dose_stable(course=course, **form.cleaned_data)
    return _done("Dose marked stable: the until-stable checks after that day are cancelled.")


def _change_dose(course: TherapyCourse, form: DoseForm, user: User) -> Said:
    course_change_dose(course=course, changed_by=user, **form.cleaned_data)
    return _done("Dose changed: the plan follows the new dose.")


def _resolve(report: InfectionReport, form: ResolveInfectionForm, user: User) -> Said:
    infection_resolve(report=report, resolved_by=user, **form.cleaned_data)
    return _done("Infection marked resolved. A clinician can now resume the course.")


def _decide(finding: Finding, form: DecideFindingForm, user: User) -> Said:
    finding = finding_decide(finding=finding, decided_by=user, **form.cleaned_data)
    if finding.repeat_check is not None and finding.decision == "repeat":
        return _done(
            f"Repeat test ordered: due now, by {finding.repeat_check.window_end}. The finding "
            "stays on the list until its result is recorded."
        )
    return _done(f"Decision recorded: {finding.get_decision_display()}.")


def _start(patient: Patient, form: StartCourseForm, user: User) -> Said:
    started = course_start(
        **form.service_kwargs(),
        started_by=user,
        acknowledge_do_not_start=form.cleaned_data["acknowledge_do_not_start"],
    )
    said = _done(f"Course started: {started.checks_planned} checks planned.")
    if started.catch_ups:
        said.append(
            (
                messages.WARNING,
                f"{started.catch_ups} catch-up check{'s' * (started.catch_ups != 1)} due now for "
                "checks missed before the course was entered: see the due-now list.",
            )
        )
    said += [(messages.WARNING, f"Dose advice: {a.text} ({a.source})") for a in started.advice]
    return said


def _complete(check: MonitoringCheck, form: CompleteCheckForm, user: User) -> Said:
    done = check_complete(
        check=check,
        completed_on=form.cleaned_data["completed_on"],
        results=form.results(),
        missing=form.missing(),
        confirm_outside_window=form.cleaned_data["confirm_outside_window"],
        completed_by=user,
    )
    said = _done(f"{done.check.get_kind_display()} recorded as done on {done.check.completed_on}.")
    if done.check.done_outside_window:
        said.append((messages.WARNING, "Kept as done outside its window."))
    for recorded in done.results:
        result, outcome = recorded.result, recorded.outcome
        head = f"{ANALYTE_NAMES[result.analyte]} {result.reading}: "
        if not outcome.findings:
            said.append((messages.INFO, head + "no threshold reached."))
        for found in outcome.findings:
            level = (
                messages.WARNING
                if outcome.action.severity > OutcomeAction.ADVISE.severity
                else messages.INFO
            )
            said.append(
                (
                    level,
                    f"{head}{result.get_outcome_action_display()}. {found.text} "
                    f"(rule {found.rule_id}; {found.source})",
                )
            )
    if done.alerts_staff:
        said.append((messages.WARNING, "The clinic's staff are being alerted; clinicians decide."))
    return said


def _sample_taken(check: MonitoringCheck, form: SampleTakenForm, user: User) -> Said:
    check = check_sample_taken(check=check, sampled_on=form.cleaned_data["sampled_on"])
    return _done(
        f"{check.get_kind_display()}: sample taken on {check.sampled_on}; the check is on the "
        "results pending list until its results are recorded."
    )


def _sample_lost(check: MonitoringCheck, form: ConfirmForm, user: User) -> Said:
    check = check_sample_lost(check=check)
    return _done(f"{check.get_kind_display()}: to be taken again (due {check.due_date}).")


def _send_reminder(check: MonitoringCheck, form: ConfirmForm, user: User) -> Said:
    reminder_resend(check=check, requested_by=user)
    return _done("Reminder queued: it goes out within a minute.")


def _calendar_link(patient: Patient, form: ConfirmForm, user: User) -> Said:
    calendar_feed_issue(patient=patient, issued_by=user)
    where = "emailed to the patient" if patient.email else "shown on this page (no email address)"
    return _done(f"New calendar link {where}; the old link has stopped working.")


COURSE = (TherapyCourse, "patient__clinic")
ACTIONS: dict[str, Action[Any, Any]] = {  # each its own model and form
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
        StaffInfectionForm,
        _report,
        "The course is paused at once, its checks go on hold, and the clinic's staff and the patient "
        "are alerted by email. A clinician decides when to resume.",
        preview=lambda course, form: infection_report_preview(
            course=course, kind=form.cleaned_data["kind"], onset_on=form.cleaned_data["onset_on"]
        ),
        preview_template="clinics/admin/infection_preview.html",
        preview_button="Check what happens",
    ),
    "pause": Action("Pause the course", *COURSE, Can.MANAGE_COURSES, PauseForm, _pause),
    "resume": Action("Resume the course", *COURSE, Can.MANAGE_COURSES, ResumeForm, _resume),
    "change-dose": Action("Change the dose", *COURSE, Can.MANAGE_COURSES, DoseForm, _change_dose),
    "dose-stable": Action(
        "Mark the dose stable", *COURSE, Can.MANAGE_COURSES, DoseStableForm, _dose_stable
    ),
    "stop": Action("Stop the course", *COURSE, Can.MANAGE_COURSES, StopForm, _stop),
    "resolve-infection": Action(
        "Mark the infection resolved",
        InfectionReport,
        "course__patient__clinic",
        Can.MANAGE_COURSES,
        ResolveInfectionForm,
        _resolve,
    ),
    "decide-finding": Action(
        "Record a decision on a finding",
        Finding,
        "course__patient__clinic",
        Can.MANAGE_COURSES,
        DecideFindingForm,
        _decide,
        "Pause or stop the course from here, order a repeat test, or continue with a written "
        "reason. Who decided what and when is kept in the finding's history.",
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
    "sample-taken": Action(
        "Record that the sample was taken",
        MonitoringCheck,
        "course__patient__clinic",
        Can.COMPLETE_CHECKS,
        SampleTakenForm,
        _sample_taken,
        "No more reminders go out for this check; it waits on the results pending list until "
        "you record its results with “Record as done”.",
    ),
    "sample-lost": Action(
        "The sample was lost: take it again",
        MonitoringCheck,
        "course__patient__clinic",
        Can.COMPLETE_CHECKS,
        ConfirmForm,
        _sample_lost,
        "The check leaves the results pending list and is to do again by its dates; reminders "
        "resume.",
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


def _patient_of(obj: Subject) -> Patient:
    if isinstance(obj, Patient):
        return obj
    if isinstance(obj, TherapyCourse):
        return obj.patient
    return obj.course.patient


def _fingerprint(form: ActionForm[Any]) -> str:
    """What the preview was shown for: confirming anything else shows the preview again."""
    data = sorted(
        (k, str(v)) for k, v in form.cleaned_data.items() if k != "acknowledge_do_not_start"
    )
    return hashlib.sha256(repr(data).encode()).hexdigest()


def _say(request: HttpRequest, said: Iterable[tuple[int, str]]) -> None:
    for level, text in said:
        messages.add_message(request, level, text)


def action_view(request: HttpRequest, admin_site: AdminSite, name: str, uuid: UUID) -> HttpResponse:
    action = ACTIONS.get(name)
    if action is None:
        raise Http404
    scoped = scope(action.model.objects.all(), request.user, action.clinic_path)
    obj: Subject | None = scoped.filter(uuid=uuid).first()
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
        "sampled_on": today,
    }
    form: ActionForm[Any] = action.form(
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
                _say(request, action.run(obj, form, staff_user(request)))
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

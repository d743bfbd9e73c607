"""Plain HTTP views: health, and the pages behind the secret links in patient emails.

The link pages need no login: the token is the credential (only its hash is stored). Unknown,
expired or revoked tokens answer 404. One-click unsubscribe (RFC 8058) is a POST with no
session or CSRF token, acts on the token alone and is idempotent.
"""

from django import forms
from django.core.exceptions import ValidationError
from django.db import connection
from django.http import Http404, JsonResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from .lifecycle import LifecycleConflict
from .models import LinkToken
from .services.infections import infection_report
from .services.links import link_find
from .services.patients import patient_save


def health(request):
    """Liveness for the load balancer and docker-compose: the database answers."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


def _link(token: str, purpose: str) -> LinkToken:
    link = link_find(token=token, purpose=purpose)
    if link is None:
        raise Http404("This link is not valid any more.")
    return link


@csrf_exempt
@require_http_methods(["GET", "POST"])
def unsubscribe(request, token: str):
    link = _link(token, LinkToken.Purpose.UNSUBSCRIBE)
    patient = link.patient
    done = request.method == "POST"
    if done and patient.reminder_consent:
        patient.reminder_consent = False
        patient_save(patient=patient, changed=["reminder_consent"])
    response = render(
        request, "clinics/links/unsubscribe.html", {"clinic": patient.clinic, "done": done}
    )
    response["Referrer-Policy"] = "no-referrer"
    response["X-Robots-Tag"] = "noindex"
    return response


class InfectionForm(forms.Form):
    serious = forms.BooleanField(
        required=False, label="I feel very unwell, or I have been admitted to hospital"
    )
    description = forms.CharField(
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 4}),
        label="What is wrong? (optional)",
    )


@require_http_methods(["GET", "POST"])
def report_infection(request, token: str):
    link = _link(token, LinkToken.Purpose.REPORT_INFECTION)
    form = InfectionForm(request.POST or None)
    context = {"clinic": link.patient.clinic, "form": form, "reported": False, "problem": ""}
    if request.method == "POST" and form.is_valid() and link.course is not None:
        try:
            infection_report(
                course=link.course,
                serious=form.cleaned_data["serious"],
                description=form.cleaned_data["description"],
                reporter="patient",
            )
            context["reported"] = True
        except LifecycleConflict:
            context["problem"] = "This treatment has already ended."
        except ValidationError as exc:
            context["problem"] = "; ".join(exc.messages)
    response = render(request, "clinics/links/report_infection.html", context)
    response["Referrer-Policy"] = "no-referrer"
    response["X-Robots-Tag"] = "noindex"
    return response

"""Plain HTTP views: health, the pages behind the secret links in patient emails, and the
calendar feeds.

The link pages and feeds need no login: the token is the credential. Unknown, expired or revoked
tokens answer 404 (feeds: 429 once one address has sent too many). One-click unsubscribe
(RFC 8058) is a POST with no session or CSRF token, acts on the token alone and is idempotent.
"""

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.cache import get_conditional_response
from django.utils.http import http_date
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods
from django_ratelimit.core import is_ratelimited

from .core.vocab import InfectionKind, LifecycleConflict, LinkPurpose, Reporter
from .feeds.content import feed_body
from .feeds.version import feed_open
from .models import LinkToken
from .services.infections import infection_report
from .services.link_tokens import link_find
from .services.patients import patient_save


def health(request: HttpRequest) -> JsonResponse:
    """Liveness for the load balancer and docker-compose: the database answers."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


def _private(response: HttpResponse) -> HttpResponse:
    """Secret-URL pages: not cached by shared caches, not leaked by Referer, not indexed."""
    response["Referrer-Policy"] = "no-referrer"
    response["X-Robots-Tag"] = "noindex"
    return response


def _link(token: str, purpose: str) -> LinkToken:
    link = link_find(token=token, purpose=purpose)
    if link is None:
        raise Http404("This link is not valid any more.")
    return link


@csrf_exempt
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    link = _link(token, LinkPurpose.UNSUBSCRIBE)
    patient = link.patient
    done = request.method == "POST"
    if done and patient.reminder_consent:
        patient.reminder_consent = False
        patient_save(patient=patient, changed=["reminder_consent"])
    return _private(
        render(request, "clinics/links/unsubscribe.html", {"clinic": patient.clinic, "done": done})
    )


# The kinds of infection in a patient's words.
PATIENT_INFECTION_WORDS = {
    InfectionKind.HERPES_ZOSTER: "A painful rash or blisters on one side of the body (shingles)",
    InfectionKind.RESPIRATORY: "Chest, throat, sinuses or a cough",
    InfectionKind.URINARY: "Pain or burning when passing urine",
    InfectionKind.SKIN: "Skin: red, hot, swollen or weeping",
    InfectionKind.OTHER: "Somewhere else, or I am not sure",
}


class PatientInfectionForm(forms.Form):
    # Both may stay blank: a patient who cannot say is still heard (staff see "not given").
    kind = forms.ChoiceField(
        choices=[("", "Choose one"), *PATIENT_INFECTION_WORDS.items()],
        required=False,
        label="Where is the infection?",
    )
    onset_on = forms.DateField(
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        required=False,
        label="When did it start? (if you know)",
    )
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
def report_infection(request: HttpRequest, token: str) -> HttpResponse:
    link = _link(token, LinkPurpose.REPORT_INFECTION)
    form = PatientInfectionForm(request.POST if request.method == "POST" else None)
    context = {"clinic": link.patient.clinic, "form": form, "reported": False, "problem": ""}
    if request.method == "POST" and form.is_valid() and link.course is not None:
        try:
            facts = form.cleaned_data
            infection_report(
                course=link.course,
                reporter=Reporter.PATIENT,
                **{**facts, "kind": facts["kind"] or InfectionKind.OTHER},
            )
            context["reported"] = True
        except LifecycleConflict:
            context["problem"] = "This treatment has already ended."
        except ValidationError as exc:
            for key, errors in exc.message_dict.items():
                form.add_error(key if key in form.fields else None, errors)
    return _private(render(request, "clinics/links/report_infection.html", context))


@require_http_methods(["GET", "HEAD"])
def calendar_feed(request: HttpRequest, token: str) -> HttpResponse:
    """A patient's or staff member's iCalendar feed, with ETag/Last-Modified revalidation."""
    state = feed_open(token)
    if state is None:
        return _feed_miss(request)
    last_modified = int(state.last_modified.timestamp())
    response = get_conditional_response(request, etag=state.etag, last_modified=last_modified)
    if response is None:
        response = HttpResponse(feed_body(state), content_type="text/calendar; charset=utf-8")
        response["Content-Disposition"] = 'inline; filename="checks.ics"'
    response["ETag"] = state.etag
    response["Last-Modified"] = http_date(last_modified)
    response["Cache-Control"] = "private, no-cache"
    return _private(response)


def _feed_miss(request: HttpRequest) -> HttpResponse:
    """404, or 429 once this address has sent too many wrong tokens in the window."""
    config = settings.JAKMONITOR
    window = config["FEED_MISS_WINDOW_SECONDS"]
    if is_ratelimited(
        request,
        group="calendar-feed-miss",
        key="ip",
        rate=f"{config['FEED_MISSES_ALLOWED']}/{window}s",
        increment=True,
    ):
        response = HttpResponse("Too many requests for unknown calendar links.", status=429)
        response["Retry-After"] = str(window)
        return _private(response)
    raise Http404("No such calendar.")

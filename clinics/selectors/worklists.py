"""The staff worklists and the dashboard's counts, shared by the admin, the API and the digest. Each list is one queryset, scoped to a user's clinics by the caller
(`clinics.permissions.scope`), so its cost does not grow with per-row queries."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import reduce
from operator import or_

from django.contrib.auth.models import AnonymousUser, User
from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet

from ..core.dates import today_in
from ..core.vocab import (
    OPEN_CHECKS,
    UNDECIDED_FINDINGS,
    CareState,
    CheckStatus,
    CourseStatus,
    MessageStatus,
)
from ..models import Clinic, Finding, Message, MonitoringCheck, TherapyCourse
from ..permissions import scope

# Each list takes the model to read (a worklist's proxy model in the admin). The check lists are
# the care states of `clinics.core.care.care_state`: an open check past its due date is on exactly
# one of due now, overdue or (through its paused course) on hold.


def _on_each_clinic_date(condition: Callable[[date], Q], clinic_path: str) -> Q:
    """`condition(today)` with today each clinic's own date (a clinic in another time zone can be a
    day ahead of or behind the server). Reads the clinics' time zones (one small query)."""
    zones_on: dict[date, list[str]] = defaultdict(list)
    for zone in Clinic.objects.order_by().values_list("time_zone", flat=True).distinct():
        zones_on[today_in(zone)].append(zone)
    parts = [
        Q(**{f"{clinic_path}__time_zone__in": zones}) & condition(today)
        for today, zones in zones_on.items()
    ]
    return reduce(or_, parts, Q(pk__in=[]))


def in_care_state(state: CareState) -> Q:
    """The checks in `state` today (`clinics.core.care.care_state`, as a query)."""
    clinic = "course__patient__clinic"
    scheduled = Q(status=CheckStatus.SCHEDULED)
    if state == CareState.ON_HOLD:
        return Q(status=CheckStatus.ON_HOLD)
    if state == CareState.RESULTS_PENDING:
        return Q(status=CheckStatus.PENDING)
    if state == CareState.OVERDUE:
        closed = _on_each_clinic_date(lambda today: Q(window_end__lt=today), clinic)
        return Q(status=CheckStatus.OVERDUE) | (scheduled & closed)
    if state == CareState.DUE_NOW:
        due = _on_each_clinic_date(lambda t: Q(due_date__lte=t, window_end__gte=t), clinic)
        return scheduled & due
    return scheduled & _on_each_clinic_date(lambda today: Q(due_date__gt=today), clinic)


def checks_due_now(model: type[MonitoringCheck] = MonitoringCheck) -> QuerySet[MonitoringCheck]:
    """Scheduled checks whose due date has come and whose window is still open: to be done now."""
    return model.objects.filter(in_care_state(CareState.DUE_NOW)).order_by("due_date", "kind")


def checks_due_this_week(
    model: type[MonitoringCheck] = MonitoringCheck,
) -> QuerySet[MonitoringCheck]:
    """Upcoming checks due by six days on (from tomorrow: today's are due now)."""
    by_sixth_day = _on_each_clinic_date(
        lambda today: Q(due_date__lte=today + timedelta(days=6)), "course__patient__clinic"
    )
    return model.objects.filter(in_care_state(CareState.UPCOMING), by_sixth_day).order_by(
        "due_date", "kind"
    )


def overdue_checks(model: type[MonitoringCheck] = MonitoringCheck) -> QuerySet[MonitoringCheck]:
    """Checks whose window has closed, marked overdue or not yet (the periodic job marks them
    within the hour). Oldest first: the longer a check is overdue, the longer the patient has gone
    unmonitored."""
    return model.objects.filter(in_care_state(CareState.OVERDUE)).order_by("window_end", "kind")


def checks_results_pending(
    model: type[MonitoringCheck] = MonitoringCheck,
) -> QuerySet[MonitoringCheck]:
    """Samples taken whose results have not been entered, the longest waiting first."""
    return model.objects.filter(in_care_state(CareState.RESULTS_PENDING)).order_by(
        "sampled_on", "kind"
    )


def paused_courses(model: type[TherapyCourse] = TherapyCourse) -> QuerySet[TherapyCourse]:
    """Courses on hold, awaiting a clinician's review (resume or stop)."""
    return model.objects.filter(status=CourseStatus.PAUSED).order_by("status_changed_at")


def courses_without_next_check(
    model: type[TherapyCourse] = TherapyCourse,
) -> QuerySet[TherapyCourse]:
    """Active courses with no open check: nothing would remind anyone to monitor them."""
    open_check = MonitoringCheck.objects.filter(course=OuterRef("pk"), status__in=OPEN_CHECKS)
    return (
        model.objects.filter(status=CourseStatus.ACTIVE)
        .filter(~Exists(open_check))
        .order_by("start_date")
    )


def findings_undecided(model: type[Finding] = Finding) -> QuerySet[Finding]:
    """Findings awaiting a clinician's decision, and those with a repeat test ordered whose result
    has not come back: escalated first, then the longest waiting."""
    return model.objects.filter(status__in=UNDECIDED_FINDINGS).order_by(
        F("escalated_at").asc(nulls_last=True), "opened_at", "id"
    )


def failed_messages(model: type[Message] = Message) -> QuerySet[Message]:
    """Messages that did not go out: safety messages first, then the newest."""
    return model.objects.filter(status=MessageStatus.FAILED).order_by("-safety", "-created_at")


@dataclass
class ClinicCounts:
    clinic: Clinic
    counts: dict[str, int] = field(default_factory=dict)


def dashboard_counts(*, user: User | AnonymousUser) -> list[ClinicCounts]:
    """Per clinic of the user: how many rows each worklist holds (one query per list, and one
    for the clinics' dates)."""
    lists = {
        "findings": (findings_undecided(), "course__patient__clinic"),
        "due_now": (checks_due_now(), "course__patient__clinic"),
        "results_pending": (checks_results_pending(), "course__patient__clinic"),
        "due_this_week": (checks_due_this_week(), "course__patient__clinic"),
        "overdue": (overdue_checks(), "course__patient__clinic"),
        "paused": (paused_courses(), "patient__clinic"),
        "no_next_check": (courses_without_next_check(), "patient__clinic"),
        "failed_messages": (failed_messages(), "clinic"),
        "failed_safety": (failed_messages().filter(safety=True), "clinic"),
    }
    rows = {
        c.pk: ClinicCounts(c, dict.fromkeys(lists, 0))
        for c in scope(Clinic.objects.order_by("name"), user, "pk")
    }
    for name, (queryset, path) in lists.items():
        counted = scope(queryset, user, path).order_by().values(path).annotate(n=Count("pk"))
        for row in counted:
            if row[path] in rows:
                rows[row[path]].counts[name] = row["n"]
    return list(rows.values())

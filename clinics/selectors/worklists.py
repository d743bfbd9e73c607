"""The staff worklists and the dashboard's counts, shared by the admin, the API and the digest. Each list is one queryset, scoped to a user's clinics by the caller
(`clinics.permissions.scope`), so its cost does not grow with per-row queries."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import reduce
from operator import or_

from django.contrib.auth.models import AnonymousUser, User
from django.db.models import Count, Exists, OuterRef, Q, QuerySet

from ..core.dates import today_in
from ..core.vocab import OPEN_CHECKS, CheckStatus, CourseStatus, MessageStatus
from ..models import Clinic, Message, MonitoringCheck, TherapyCourse
from ..permissions import scope

# Each list takes the model to read (a worklist's proxy model in the admin).


def checks_due_this_week(
    model: type[MonitoringCheck] = MonitoringCheck,
) -> QuerySet[MonitoringCheck]:
    """Scheduled checks due from today to six days on, today being each clinic's own date (a
    clinic in another time zone can be a day ahead of or behind the server). Reads the clinics'
    time zones (one small query) to know which dates those are."""
    zones_on: dict[date, list[str]] = defaultdict(list)
    for zone in Clinic.objects.order_by().values_list("time_zone", flat=True).distinct():
        zones_on[today_in(zone)].append(zone)
    this_week = [
        Q(
            course__patient__clinic__time_zone__in=zones,
            due_date__range=(today, today + timedelta(days=6)),
        )
        for today, zones in zones_on.items()
    ]
    if not this_week:
        return model.objects.none()
    return model.objects.filter(reduce(or_, this_week), status=CheckStatus.SCHEDULED).order_by(
        "due_date", "kind"
    )


def overdue_checks(model: type[MonitoringCheck] = MonitoringCheck) -> QuerySet[MonitoringCheck]:
    """Oldest first: the longer a check is overdue, the longer the patient has gone unmonitored."""
    return model.objects.filter(status=CheckStatus.OVERDUE).order_by("window_end", "kind")


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


def failed_messages(model: type[Message] = Message) -> QuerySet[Message]:
    return model.objects.filter(status=MessageStatus.FAILED).order_by("-created_at")


@dataclass
class ClinicCounts:
    clinic: Clinic
    counts: dict[str, int] = field(default_factory=dict)


def dashboard_counts(*, user: User | AnonymousUser) -> list[ClinicCounts]:
    """Per clinic of the user: how many rows each worklist holds (one query per list, and one
    for the clinics' dates)."""
    lists = {
        "due_this_week": (checks_due_this_week(), "course__patient__clinic"),
        "overdue": (overdue_checks(), "course__patient__clinic"),
        "paused": (paused_courses(), "patient__clinic"),
        "no_next_check": (courses_without_next_check(), "patient__clinic"),
        "failed_messages": (failed_messages(), "clinic"),
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

"""What a calendar feed shows, and its bytes (rendered by `core.ics`, cached per version).

A patient's feed shows every open check of their courses; checks on hold (course paused) and
cancelled ones as STATUS:CANCELLED so that calendar apps remove them; done checks for a year.
A staff member's feed shows the open checks of their clinics due within STAFF_DAYS_AHEAD days
(and every overdue one), by MRN and initials. Cancelled events stay CANCELLED_KEPT_DAYS after the
change, long enough for a phone that was off for weeks to learn of it.

The bytes are cached under the feed's ETag (`feeds.version`), which changes with every input
of the bytes, so the cache never serves stale bytes. Bump FORMAT when the wording or layout
changes.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo

from django.core.cache import cache
from django.db.models import Q, QuerySet
from django.utils.dateformat import format as format_date

from ..core.ics import CalendarInfo, FeedEvent, calendar_bytes
from ..core.vocab import OPEN_CHECKS, CheckStatus
from ..models import Clinic, MonitoringCheck
from ..public_urls import public_url

FORMAT = "1"
DONE_KEPT_DAYS = 365
STAFF_DONE_KEPT_DAYS = 30
STAFF_DAYS_AHEAD = 90
CANCELLED_KEPT_DAYS = 60
# Clients are asked to refresh twice a day; Google refreshes every 12-24 h whatever it is told.
REFRESH = timedelta(hours=12)
CACHE_SECONDS = 24 * 3600
_STAFF_UID = uuid.UUID("6a1d8d2e-3c53-4c43-9a43-3f0e1b7c5d10")


@dataclass(frozen=True)
class FeedState:
    """One feed as it stands now: whose it is, the clinic-local date and its version."""

    feed_id: int
    patient_id: int | None
    user_id: int | None
    today: date
    tz: tzinfo
    etag: str
    last_modified: datetime


def staff_clinics(user_id: int) -> list[Clinic]:
    return list(Clinic.objects.filter(memberships__user_id=user_id).order_by("pk"))


def shown_checks(
    *, patient_id: int | None, clinic_ids: list[int], today: date, tz: tzinfo
) -> QuerySet[MonitoringCheck]:
    """The checks a patient's feed (patient_id) or a staff feed (clinic_ids) shows on `today`."""
    if patient_id is not None:
        return MonitoringCheck.objects.filter(course__patient_id=patient_id).filter(
            _shown(today, tz, done_days=DONE_KEPT_DAYS, ahead_days=None)
        )
    return MonitoringCheck.objects.filter(course__patient__clinic__in=clinic_ids).filter(
        _shown(today, tz, done_days=STAFF_DONE_KEPT_DAYS, ahead_days=STAFF_DAYS_AHEAD)
    )


def _shown(today: date, tz: tzinfo, *, done_days: int, ahead_days: int | None) -> Q:
    kept_since = datetime.combine(today - timedelta(days=CANCELLED_KEPT_DAYS), time(), tz)
    current = Q(status__in=[*OPEN_CHECKS, CheckStatus.PENDING]) | Q(
        status=CheckStatus.CANCELLED, updated_at__gte=kept_since
    )
    if ahead_days is not None:
        current = (current & Q(due_date__lte=today + timedelta(days=ahead_days))) | Q(
            status=CheckStatus.OVERDUE
        )
    return current | Q(status=CheckStatus.DONE, completed_on__gte=today - timedelta(days=done_days))


def feed_body(state: FeedState) -> bytes:
    """The feed's iCalendar bytes, rendered once per version."""
    key = f"calendar-feed:{state.etag.strip(chr(34))}"
    body: bytes | None = cache.get(key)
    if body is None:
        body = _render(state)
        cache.set(key, body, CACHE_SECONDS)
    return body


def _render(state: FeedState) -> bytes:
    if state.patient_id is not None:
        clinics = list(Clinic.objects.filter(patients__id=state.patient_id))
    elif state.user_id is not None:
        clinics = staff_clinics(state.user_id)
    else:  # a feed is a patient's or a staff member's (feed_open gives no other)
        clinics = []
    rows = (
        shown_checks(
            patient_id=state.patient_id,
            clinic_ids=[c.pk for c in clinics],
            today=state.today,
            tz=state.tz,
        )
        .select_related("course__drug", "course__patient")
        .order_by("due_date", "kind", "id")
    )
    if state.patient_id is not None:
        clinic = clinics[0]
        # A clinic's name can tell what a patient is treated for: shown only if the clinic allows.
        named = clinic.name if clinic.calendar_details else "your clinic"
        info = CalendarInfo(
            name=f"{clinic.name}: my checks" if clinic.calendar_details else "My clinic checks",
            description=f"Dates of the checks {named} has planned for you. Anything urgent "
            "reaches you by email or phone and never only through this calendar.",
            refresh=REFRESH,
            alert=_alert(clinic),
        )
        return calendar_bytes(info, (_patient_event(check, clinic) for check in rows))
    by_id = {c.pk: c for c in clinics}
    info = CalendarInfo(
        name="jakmonitor: checks due",
        description=f"Monitoring checks due in {', '.join(by_id[k].name for k in by_id) or 'no clinic'}.",
        refresh=REFRESH,
    )
    return calendar_bytes(
        info, (_staff_event(check, by_id[check.course.patient.clinic_id]) for check in rows)
    )


def _alert(clinic: Clinic) -> timedelta | None:
    if clinic.calendar_alert_days is None:
        return None
    return timedelta(days=-clinic.calendar_alert_days, hours=clinic.reminder_hour)


def _day(value: date) -> str:
    return format_date(value, "l j F Y")


_STATUS_LABEL: dict[str, str] = {
    CheckStatus.OVERDUE: "Overdue: ",
    CheckStatus.DONE: "Done: ",
    CheckStatus.PENDING: "Results pending: ",
    CheckStatus.ON_HOLD: "On hold: ",
    CheckStatus.CANCELLED: "Cancelled: ",
}


def _when(check: MonitoringCheck) -> str:
    if check.window_start == check.window_end:
        return f"Due {_day(check.due_date)}."
    return (
        f"Due {_day(check.due_date)}; any day from {_day(check.window_start)} "
        f"to {_day(check.window_end)} is fine."
    )


def _patient_status(check: MonitoringCheck, clinic: Clinic) -> str:
    texts: dict[str, str] = {
        CheckStatus.OVERDUE: "This check is overdue. Please contact your clinic to arrange it.",
        CheckStatus.ON_HOLD: f"On hold: your treatment is paused. {clinic.hold_text}",
        CheckStatus.CANCELLED: "No longer planned: your clinic has changed your monitoring plan.",
        CheckStatus.DONE: f"Done on {_day(check.completed_on)}." if check.completed_on else "",
        CheckStatus.PENDING: f"Sample taken on {_day(check.sampled_on)}; your clinic will have "
        "the results."
        if check.sampled_on
        else "",
    }
    return texts.get(check.status, "")


def _contact(clinic: Clinic) -> str:
    ways = ", ".join(way for way in (clinic.contact_phone, clinic.contact_email) if way)
    named = clinic.name if clinic.calendar_details else "your clinic"
    return f"Contact {named}" + (f": {ways}." if ways else ".")


def _patient_event(check: MonitoringCheck, clinic: Clinic) -> FeedEvent:
    kind = check.get_kind_display()
    summary = _STATUS_LABEL.get(check.status, "") + kind
    lines = [kind, _when(check), _patient_status(check, clinic)]
    if clinic.calendar_details:
        summary += f" ({check.course.drug.name})"
        lines.append(f"Part of the monitoring for {check.course.drug.name}.")
    lines += [
        check.instructions,
        f"Where to go: {clinic.test_location}" if clinic.test_location else "",
        f"Questions, or cannot make these dates? {_contact(clinic)}",
    ]
    return _event(check, str(check.uuid), summary, lines, check.updated_at, clinic.updated_at)


def _staff_event(check: MonitoringCheck, clinic: Clinic) -> FeedEvent:
    patient = check.course.patient
    kind = check.get_kind_display()
    summary = f"{_STATUS_LABEL.get(check.status, '')}{patient.mrn} {patient.initials}: {kind}"
    lines = [
        f"{kind} for {patient.mrn} {patient.initials} ({clinic.name}).",
        _when(check),
        CheckStatus(check.status).label + ".",
    ]
    if clinic.calendar_details:
        summary += f" ({check.course.drug.name})"
        lines += [f"Drug: {check.course.drug.name}.", check.why]
    return _event(
        check,
        str(uuid.uuid5(_STAFF_UID, str(check.uuid))),  # not the patient feed's UID
        summary,
        lines,
        check.updated_at,
        clinic.updated_at,
        patient.updated_at,
        url=public_url("admin:clinics_monitoringcheck_change", check.pk),
    )


def _event(
    check: MonitoringCheck,
    uid: str,
    summary: str,
    lines: list[str],
    *stamps: datetime,
    url: str = "",
) -> FeedEvent:
    return FeedEvent(
        uid=uid,
        day=check.due_date,
        summary=summary,
        description="\n".join(line for line in lines if line),
        cancelled=check.status in (CheckStatus.CANCELLED, CheckStatus.ON_HOLD),
        alert=check.status == CheckStatus.SCHEDULED,
        sequence=check.sequence,
        created=check.created_at,
        modified=max(stamps),
        url=url,
    )

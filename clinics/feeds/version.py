"""Opening a feed by its token and telling its version (ETag, Last-Modified): the hot path.

The ETag hashes every input of the feed's bytes: for a patient's feed the count of their checks
and the sum of the checks' SEQUENCE (every change of a check raises its sequence, so unlike a
"last updated" watermark this cannot miss a change that commits out of order), the clinic's last
change, the latest rule set (drug names), the date (what is shown moves with it), the public
base URL and the FORMAT of the wording. Last-Modified is when the server first saw that ETag,
kept on the feed row: it never goes backwards and advances whenever the ETag changes, so
If-Modified-Since alone is as safe as If-None-Match.

Calendar apps poll every few hours and mostly get 304, so a patient's feed costs one SQL
statement (written out because compiling an ORM query costs more than running it: about 0.4 ms
against 0.05 ms; bench/feeds.py). A staff feed spans clinics and takes the ORM path.
"""

from __future__ import annotations

import functools
import hashlib
import zoneinfo
from datetime import UTC, date, datetime, timedelta, tzinfo

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import Count, Max, Sum
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from ..core.dates import today_in
from ..models import (
    CalendarFeed,
    Clinic,
    MonitoringCheck,
    Patient,
    RuleSetVersion,
    TherapyCourse,
)
from .content import FORMAT, FeedState, shown_checks, staff_clinics
from .tokens import token_key, token_valid


@functools.cache
def _lookup_sql() -> str:
    q = connection.ops.quote_name
    feed, patient, clinic = (q(m._meta.db_table) for m in (CalendarFeed, Patient, Clinic))
    user, rules = q(get_user_model()._meta.db_table), q(RuleSetVersion._meta.db_table)
    check, course = q(MonitoringCheck._meta.db_table), q(TherapyCourse._meta.db_table)
    checks = f"FROM {check} m INNER JOIN {course} t ON t.id = m.course_id WHERE t.patient_id = f.patient_id"
    return (
        "SELECT f.id, f.patient_id, f.user_id, f.seen_etag, f.seen_at, u.is_active, u.is_staff, "
        # Count and sequence sum of the patient's checks in one scan, as one opaque stamp.
        "c.id, c.time_zone, c.updated_at, "
        f"(SELECT COUNT(*) || '/' || COALESCE(SUM(m.sequence), 0) {checks}), "
        f"(SELECT MAX(r.id) FROM {rules} r) "
        f"FROM {feed} f LEFT JOIN {patient} p ON p.id = f.patient_id "
        f"LEFT JOIN {clinic} c ON c.id = p.clinic_id LEFT JOIN {user} u ON u.id = f.user_id "
        "WHERE f.key = %s AND f.revoked_at IS NULL"
    )


def feed_open(token: str) -> FeedState | None:
    """The live feed this token opens, with its version; None for malformed, forged, unknown
    or revoked tokens and for the feeds of staff users no longer active staff."""
    parts = token_key(token)
    if parts is None or not token_valid(*parts):  # forged tokens never reach the database
        return None
    with connection.cursor() as cursor:
        cursor.execute(_lookup_sql(), [parts[0]])
        row = cursor.fetchone()
    if row is None:
        return None
    feed_id, patient_id, user_id, seen_etag, seen_at, active, staff, *facts = row
    if patient_id is not None:
        clinic_id, zone, clinic_changed, checks, rules = facts
        tz, today = zoneinfo.ZoneInfo(zone), today_in(zone)
        stamps = [clinic_id, _aware(clinic_changed).isoformat(), checks, rules]
    elif active and staff:
        tz, today = timezone.get_default_timezone(), today_in(settings.TIME_ZONE)
        stamps = [*_staff_stamps(user_id, today, tz), facts[-1]]
    else:
        return None
    fingerprint = "|".join(
        map(str, [FORMAT, settings.JAKMONITOR["BASE_URL"], feed_id, today.isoformat(), *stamps])
    )
    etag = '"' + hashlib.sha256(fingerprint.encode()).hexdigest()[:32] + '"'
    last_modified = None if seen_at is None else _aware(seen_at)
    if etag != seen_etag or last_modified is None:  # seen_at is written with seen_etag
        last_modified = _first_seen(feed_id, seen_etag, etag, last_modified)
    return FeedState(
        feed_id=feed_id,
        patient_id=patient_id,
        user_id=user_id if patient_id is None else None,
        today=today,
        tz=tz,
        etag=etag,
        last_modified=last_modified,
    )


def _staff_stamps(user_id: int, today: date, tz: tzinfo) -> list[object]:
    clinics = staff_clinics(user_id)
    shown = shown_checks(patient_id=None, clinic_ids=[c.pk for c in clinics], today=today, tz=tz)
    totals = shown.aggregate(
        rows=Count("id"), sequences=Sum("sequence"), people=Max("course__patient__updated_at")
    )
    return [*totals.values(), *(f"{c.pk}:{c.updated_at.isoformat()}" for c in clinics)]


def _first_seen(feed_id: int, old: str, new: str, previous: datetime | None) -> datetime:
    """A new version: Last-Modified is now (whole seconds, as HTTP dates are), later than the
    previous version's. The conditional update keeps one answer when requests race."""
    now = timezone.now().replace(microsecond=0)
    seen_at = max(now, previous + timedelta(seconds=1)) if previous else now
    CalendarFeed.objects.filter(pk=feed_id, seen_etag=old).update(seen_etag=new, seen_at=seen_at)
    return seen_at


def _aware(value: datetime | str) -> datetime:
    """A datetime column read without the ORM: SQLite gives text or naive UTC values."""
    parsed = parse_datetime(value) if isinstance(value, str) else value
    if parsed is None:
        raise ValueError(f"Not a datetime: {value!r}")
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed

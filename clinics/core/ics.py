"""iCalendar bytes for a subscription feed (RFC 5545, with RFC 7986 calendar properties).

Pure: no database and no Django, so the same events always give the same bytes, and the ETag of
a feed can be computed without rendering it. Checks are all-day events (DATE values, exclusive
DTEND, no TZID, so no VTIMEZONE is needed and every client shows the same day). The UID, DTSTAMP
and LAST-MODIFIED come from the stored check, never from "now" or a random default, so unchanged
checks give unchanged bytes; SEQUENCE is the check's own counter, which grows with every change
of dates or status (RFC 5545 §3.8.7.4).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from icalendar import Alarm, Calendar, Event, vDuration, vText

PRODID = "-//jakmonitor//Monitoring checks 1.0//EN"


@dataclass(frozen=True)
class CalendarInfo:
    name: str
    description: str
    refresh: timedelta
    # Offset of an alert from the start of the due day (negative: days before); None: no alert.
    alert: timedelta | None = None


@dataclass(frozen=True)
class FeedEvent:
    uid: str
    day: date
    summary: str
    description: str
    cancelled: bool
    sequence: int
    alert: bool  # only for checks still to do: no alarms for done, overdue or cancelled ones
    created: datetime
    modified: datetime
    url: str = ""


def calendar_bytes(info: CalendarInfo, events: Iterable[FeedEvent]) -> bytes:
    """The whole VCALENDAR; lines are folded at 75 octets and text escaped by `icalendar`."""
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    # Parsers read NAME and the X-WR- names raw (icalendar and ical.js do not unescape them),
    # so they are kept free of the characters RFC 5545 §3.3.11 escapes.
    calendar.add("name", _bare(info.name))  # RFC 7986 §5.1
    calendar.add("x-wr-calname", _bare(info.name))
    calendar.add("description", vText(info.description))  # RFC 7986 §5.2
    calendar.add("x-wr-caldesc", _bare(info.description))
    # RFC 7986 §5.7 requires VALUE=DURATION; X-PUBLISHED-TTL is the older Outlook/Apple hint.
    calendar.add("refresh-interval", info.refresh, parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", vDuration(info.refresh))  # not a bare timedelta: "12:00:00"
    for event in events:
        calendar.add_component(_vevent(event, info.alert))
    body: bytes = calendar.to_ical()
    return body


def _bare(text: str) -> vText:
    return vText(" ".join(re.sub(r"[\\;,]", " ", text).split()))


def _vevent(event: FeedEvent, alert: timedelta | None) -> Event:
    vevent = Event()
    vevent.add("uid", event.uid)
    vevent.add("dtstamp", event.modified)
    vevent.add("created", event.created)
    vevent.add("last-modified", event.modified)
    vevent.add("sequence", event.sequence)
    vevent.add("dtstart", event.day)
    vevent.add("dtend", event.day + timedelta(days=1))  # exclusive end of a one-day event
    vevent.add("summary", event.summary)
    vevent.add("description", event.description)
    vevent.add("status", "CANCELLED" if event.cancelled else "CONFIRMED")
    vevent.add("transp", "TRANSPARENT")  # a check window does not make anyone busy
    vevent.add("class", "PRIVATE")
    if event.url:
        vevent.add("url", event.url)
    if alert is not None and event.alert:
        alarm = Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add("description", event.summary)
        alarm.add("trigger", alert)
        vevent.add_component(alarm)
    return vevent

"""Calendar feeds: secret subscription URLs (tokens), what a feed shows (content) and the
iCalendar bytes (ics). Issuing and revoking feeds are services in `clinics.services.feeds`."""

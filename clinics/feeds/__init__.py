"""Calendar feeds, the hot read path: secret subscription URLs (tokens), opening a feed and telling
its version (version), and what a feed shows (content); the bytes are `clinics.core.ics`.
Issuing and revoking feeds are services in `clinics.services.calendar_feeds`."""

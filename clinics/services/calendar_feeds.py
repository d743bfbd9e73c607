"""Calendar feeds: issue (or rotate) and revoke a patient's or a staff member's secret feed."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from ..core.vocab import MessageKind
from ..feeds.tokens import new_feed_key
from ..models import CalendarFeed, Patient
from .outbox import dispatch_after_commit, message_queue


def calendar_feed_issue(
    *,
    patient: Patient | None = None,
    user: User | None = None,
    issued_by: User | None = None,
) -> CalendarFeed:
    """A new secret feed for a patient or a staff user; the previous URL answers 404 at once.

    Side effects: the owner's live feed is revoked; a patient with an email address is sent the
    new link (queued in this transaction, sent after commit).
    """
    with transaction.atomic():
        patient, user = _locked_owner(patient, user)
        _revoke(patient=patient, user=user)
        feed = CalendarFeed.objects.create(
            key=new_feed_key(), patient=patient, user=user, created_by=issued_by
        )
        if patient is not None and patient.email:
            message_queue(
                clinic=patient.clinic,
                patient=patient,
                recipient=patient.email,
                kind=MessageKind.CALENDAR_LINK,
                subject=f"Your check dates in your calendar ({patient.clinic.name})",
                dedupe_key=f"calendar-link/{feed.key}",
                context={"feed": feed.pk},
            )
            dispatch_after_commit()
    return feed


def calendar_feed_revoke(*, patient: Patient | None = None, user: User | None = None) -> int:
    """Stop the owner's feed URL working (404 from now on); returns how many were live."""
    with transaction.atomic():
        patient, user = _locked_owner(patient, user, issuing=False)
        return _revoke(patient=patient, user=user)


def _revoke(*, patient: Patient | None, user: User | None) -> int:
    feeds = CalendarFeed.objects.filter(revoked_at__isnull=True)
    feeds = feeds.filter(patient=patient) if patient is not None else feeds.filter(user=user)
    return feeds.update(revoked_at=timezone.now())


def _locked_owner(
    patient: Patient | None, user: User | None, *, issuing: bool = True
) -> tuple[Patient | None, User | None]:
    """The owner, locked (a rotation and a revocation at once cannot leave a live feed behind)
    and re-read, so that a staff feed goes only to an active staff user as they are now."""
    if (patient is None) == (user is None):
        raise ValidationError(
            {"owner": "A calendar feed belongs to one patient or one staff user."}
        )
    if patient is not None:
        locked = Patient.objects.select_for_update(of=("self",)).select_related("clinic")
        return locked.get(pk=patient.pk), None
    assert user is not None
    user = get_user_model().objects.select_for_update().get(pk=user.pk)
    if issuing and not (user.is_active and user.is_staff):
        raise ValidationError({"user": "Only an active staff user can have a staff feed."})
    return None, user

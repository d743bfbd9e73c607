"""Staff pages outside the model admin: a staff member's own calendar feed."""

from __future__ import annotations

from django.contrib import admin, messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.views.decorators.http import require_http_methods

from ..feeds.tokens import feed_urls
from ..models import CalendarFeed
from ..services.calendar_feeds import calendar_feed_issue, calendar_feed_revoke
from .scoped import staff_user


@require_http_methods(["GET", "POST"])
def staff_calendar(request: HttpRequest) -> HttpResponse:
    """Show the user's feed URL; issue a new one (the old stops working) or stop it."""
    user = staff_user(request)
    if request.method == "POST":
        if request.POST.get("action") == "issue":
            calendar_feed_issue(user=user, issued_by=user)
            messages.success(
                request, "Your new calendar link is below; the old one stopped working."
            )
        elif request.POST.get("action") == "revoke":
            calendar_feed_revoke(user=user)
            messages.success(request, "Your calendar link has stopped working.")
        return redirect("staff-calendar")
    feed = CalendarFeed.objects.filter(user=user, revoked_at__isnull=True).first()
    context = {
        **admin.site.each_context(request),
        "title": "My calendar",
        "feed": feed,
        "urls": feed_urls(feed) if feed else None,
        "clinics": user.memberships.select_related("clinic").order_by("clinic__name"),
    }
    return TemplateResponse(request, "clinics/admin/staff_calendar.html", context)

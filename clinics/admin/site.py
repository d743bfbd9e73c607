"""The staff admin site: its landing page is a dashboard of the worklists, per clinic."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.template.response import TemplateResponse

from ..selectors.worklists import dashboard_counts

WORKLISTS = (
    ("findings", "Findings to decide", "openfinding", "course__patient__clinic__id__exact"),
    ("due_now", "Due now", "duenowcheck", "course__patient__clinic__id__exact"),
    ("overdue", "Overdue", "overduecheck", "course__patient__clinic__id__exact"),
    (
        "results_pending",
        "Results pending",
        "resultspendingcheck",
        "course__patient__clinic__id__exact",
    ),
    (
        "due_this_week",
        "Coming up this week",
        "duethisweekcheck",
        "course__patient__clinic__id__exact",
    ),
    ("paused", "Paused, awaiting review", "pausedcourse", "patient__clinic__id__exact"),
    ("no_next_check", "No next check", "coursewithoutnextcheck", "patient__clinic__id__exact"),
    ("failed_messages", "Failed messages", "failedmessage", "clinic__id__exact"),
)


class JakmonitorAdminSite(admin.AdminSite):
    site_header = site_title = "jakmonitor"
    index_title = "Dashboard"
    index_template = "clinics/admin/dashboard.html"

    def index(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> TemplateResponse:
        rows = dashboard_counts(user=request.user)
        context = {
            "worklists": WORKLISTS,
            # Safety messages that could not be delivered: above everything else.
            "undelivered_safety": [
                (row.clinic, row.counts["failed_safety"])
                for row in rows
                if row.counts["failed_safety"]
            ],
            "dashboard": [
                (
                    row.clinic,
                    [(row.counts[key], model, param) for key, _, model, param in WORKLISTS],
                )
                for row in rows
            ],
            **(extra_context or {}),
        }
        return super().index(request, context)

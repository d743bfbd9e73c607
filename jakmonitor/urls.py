"""URL routes: the staff admin, the REST API, health, the secret-link pages of patient emails and the
calendar feeds."""

from django.contrib import admin
from django.urls import include, path

from clinics.admin.calendar import staff_calendar
from clinics.views import calendar_feed, health, report_infection, unsubscribe

urlpatterns = [
    path("admin/my-calendar/", admin.site.admin_view(staff_calendar), name="staff-calendar"),
    path("admin/", admin.site.urls),
    path("api/", include("clinics.api.urls")),
    path("health/", health, name="health"),
    path("links/<str:token>/unsubscribe/", unsubscribe, name="link-unsubscribe"),
    path("links/<str:token>/report-infection/", report_infection, name="link-report-infection"),
    path("feeds/<str:token>/checks.ics", calendar_feed, name="calendar-feed"),
]

handler404 = "clinics.api.errors.not_found"

"""URL routes: the staff admin, health, and the secret-link pages of patient emails."""

from django.contrib import admin
from django.urls import path

from clinics.views import health, report_infection, unsubscribe

urlpatterns = [
    path("admin/", admin.site.urls),
    path("health/", health, name="health"),
    path("links/<str:token>/unsubscribe/", unsubscribe, name="link-unsubscribe"),
    path("links/<str:token>/report-infection/", report_infection, name="link-report-infection"),
]

"""URL routes: the staff admin; the API and calendar feeds are added by their own issues."""

from django.contrib import admin
from django.urls import path

from clinics.views import health

urlpatterns = [
    path("admin/", admin.site.urls),
    path("health/", health, name="health"),
]

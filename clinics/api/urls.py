"""API routes: /api/v1/ (versioned by path), the OpenAPI schema and its interactive page."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.routers import DefaultRouter

from . import views

router = DefaultRouter()
router.register("clinics", views.ClinicViewSet, basename="clinic")
router.register("patients", views.PatientViewSet, basename="patient")
router.register("courses", views.CourseViewSet, basename="course")
router.register("checks", views.CheckViewSet, basename="check")
router.register("lab-results", views.LabResultViewSet, basename="labresult")
router.register("infection-reports", views.InfectionReportViewSet, basename="infectionreport")
router.register("findings", views.FindingViewSet, basename="finding")
router.register("messages", views.MessageViewSet, basename="message")
router.register("drugs", views.DrugViewSet, basename="drug")

urlpatterns = [
    path("v1/dashboard/", views.DashboardView.as_view(), name="api-dashboard"),
    path("v1/", include((router.urls, "api"), namespace="v1")),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
]

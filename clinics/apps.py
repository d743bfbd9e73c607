from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class ClinicsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "clinics"
    verbose_name = "Clinics and monitoring"

    def ready(self) -> None:
        from . import system_checks  # noqa: F401  (registers the deployment checks)
        from .admin import records, worklists  # noqa: F401  (registers the staff admin pages)


class JakmonitorAdminConfig(admin_apps.AdminConfig):
    """django.contrib.admin with the staff site (dashboard landing page)."""

    default = False  # named in INSTALLED_APPS; ClinicsConfig stays this module's default
    default_site = "clinics.admin.site.JakmonitorAdminSite"

from typing import Any

from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps
from django.db.models.signals import post_migrate


class ClinicsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "clinics"
    verbose_name = "Clinics and monitoring"

    def ready(self) -> None:
        from . import system_checks  # noqa: F401  (registers the deployment checks)
        from .admin import records, worklists  # noqa: F401  (registers the staff admin pages)

        post_migrate.connect(_sync_role_groups, sender=self)


def _sync_role_groups(**kwargs: Any) -> None:
    """After migrate (once Django has created the new models' permissions)."""
    from .services.staff import role_groups_sync

    role_groups_sync()


class JakmonitorAdminConfig(admin_apps.AdminConfig):
    """django.contrib.admin with the staff site (dashboard landing page)."""

    default = False  # named in INSTALLED_APPS; ClinicsConfig stays this module's default
    default_site = "clinics.admin.site.JakmonitorAdminSite"

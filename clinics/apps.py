from django.apps import AppConfig


class ClinicsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "clinics"
    verbose_name = "Clinics and monitoring"

    def ready(self):
        from . import checks  # noqa: F401  (registers the deployment checks)

"""Shared fixtures: the real seed files, loaded rules and factory-made clinics and patients."""

from datetime import date

import pytest

from clinics.core.ruleset import RuleLibrary, load_library
from tests.support.clock import START, at
from tests.support.seed_edits import SEEDS


@pytest.fixture(scope="session")
def library() -> RuleLibrary:
    return load_library(SEEDS)


@pytest.fixture
def protocol(library):
    return library.protocols["default"].rules


@pytest.fixture
def rules_loaded(db):
    from clinics.services.seeds import rules_load

    return rules_load(seed_dir=SEEDS)


@pytest.fixture
def clinic(rules_loaded):
    from tests.support.factories import ClinicFactory

    return ClinicFactory()


@pytest.fixture
def patient(clinic):
    from tests.support.factories import PatientFactory

    return PatientFactory(clinic=clinic, sex_at_birth="female", date_of_birth=date(1970, 5, 1))


@pytest.fixture
def course(patient):
    """Tofacitinib 5 mg twice daily for RA, started on START (New York) that morning."""
    from tests.support.factories import tofacitinib_course

    with at(2026, 3, 2, 15):
        return tofacitinib_course(patient=patient, start_date=START)


@pytest.fixture
def clinician(patient):
    """A clinician in the patient's clinic, who receives the staff mail."""
    from clinics.services.staff import staff_member_add

    return staff_member_add(
        clinic=patient.clinic,
        username="nurse",
        email="nurse@example.org",
        role="clinician",
        password="a-long-test-password",
    )


@pytest.fixture(autouse=True)
def _plain_static_files(settings):
    """Tests render admin pages without running collectstatic."""
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Tests log in often; production's PBKDF2 work factor is not what they test."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def smtp(settings):
    """A real SMTP server receiving the mail, with Django's SMTP backend pointed at it."""
    from tests.support.smtp_sink import SmtpServer

    server = SmtpServer().start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", server.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 5
    yield server
    server.stop()

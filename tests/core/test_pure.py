"""`clinics.core` is pure: each module imports with Django unconfigured and pulls in no ORM."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

import clinics.core

CORE = sorted(
    p.stem for p in Path(clinics.core.__file__).parent.glob("*.py") if p.stem != "__init__"
)
PROBE = """
import sys
import clinics.core.{name}
from django.conf import settings
assert not settings.configured, "settings were configured"
loaded = sorted(m for m in sys.modules if m.startswith(("django.db", "django.conf.urls")))
assert not loaded, loaded
"""


def test_core_has_the_layout_modules():
    assert set(CORE) >= {
        "vocab",
        "dates",
        "ruleset",
        "units",
        "planning",
        "reconcile",
        "thresholds",
        "ics",
    }


@pytest.mark.parametrize("name", CORE)
def test_imports_without_django_settings(name):
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    root = Path(clinics.core.__file__).resolve().parents[2]
    done = subprocess.run(
        [sys.executable, "-c", PROBE.format(name=name)],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr

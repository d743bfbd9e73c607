"""Two independent parsers for the feeds the tests produce: Python's `icalendar` and Mozilla's
ical.js under Node (installed by bin/test from tests/ical/package-lock.json)."""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
from icalendar import Calendar

VALIDATOR = Path(__file__).parents[1] / "ical" / "validate.mjs"


def parse_icalendar(body: bytes) -> Calendar:
    """Parse strictly: any property icalendar could not read fails the test."""
    calendar = Calendar.from_ical(body)
    problems = [(c.name, c.errors) for c in calendar.walk() if c.errors]
    assert not problems, problems
    assert not calendar.get_missing_tzids()
    return calendar


def parse_ical_js(*bodies: bytes) -> list[dict]:
    """Each feed as ical.js reads it (name, refresh interval, events); fails on any rejection."""
    node = shutil.which("node")
    if node is None or not (VALIDATOR.parent / "node_modules" / "ical.js").is_dir():
        pytest.fail("Node.js and tests/ical/node_modules are required: run the tests with bin/test")
    with tempfile.TemporaryDirectory() as folder:
        paths = []
        for index, body in enumerate(bodies):
            path = Path(folder) / f"feed{index}.ics"
            path.write_bytes(body)
            paths.append(str(path))
        run = subprocess.run(
            [node, str(VALIDATOR), *paths], capture_output=True, text=True, timeout=60
        )
    assert run.returncode == 0, run.stderr
    return [json.loads(line) for line in run.stdout.splitlines()]


def parse_both(body: bytes) -> tuple[Calendar, dict]:
    return parse_icalendar(body), parse_ical_js(body)[0]

"""Reviewed snapshots: a test compares its output with a committed file, byte for byte.

A missing file fails the test (a snapshot nobody reviewed proves nothing); `UPDATE_SNAPSHOTS=1`
writes the file instead, for a person to review in the diff like code."""

import os
from pathlib import Path

import pytest


def assert_matches_snapshot(body: bytes, path: Path) -> None:
    if os.environ.get("UPDATE_SNAPSHOTS") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(body)
    if not path.exists():
        pytest.fail(f"no snapshot {path}: run with UPDATE_SNAPSHOTS=1, then review the file")
    assert body == path.read_bytes(), f"differs from {path} (UPDATE_SNAPSHOTS=1 rewrites it)"

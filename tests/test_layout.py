"""The tests' own layout: helpers live in tests/support, test folders mirror the code's tree, and
no test module (nor a benchmark) imports another test module, so each can move or go alone."""

import ast
from pathlib import Path

import pytest

from tests.support.snapshots import assert_matches_snapshot

ROOT = Path(__file__).resolve().parents[1]
# Test folder: the part of the code it tests.
MIRRORS = {
    "admin": "clinics/admin",
    "api": "clinics/api",
    "commands": "clinics/management/commands",
    "core": "clinics/core",
    "feeds": "clinics/feeds",
    "selectors": "clinics/selectors",
    "services": "clinics/services",
    "worker": "clinics/tasks.py",
}


def imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return names


def test_test_folders_mirror_the_code():
    folders = {p.name for p in (ROOT / "tests").iterdir() if p.is_dir() and any(p.glob("*.py"))}
    assert folders == {*MIRRORS, "support"}
    assert all((ROOT / code).exists() for code in MIRRORS.values())
    assert [p.name for p in (ROOT / "tests").glob("test_*.py")] == ["test_layout.py"]


@pytest.mark.parametrize("folder", ["tests", "bench"])
def test_only_support_modules_are_imported_from_tests(folder):
    wrong = {
        f"{path.relative_to(ROOT)}: {name}"
        for path in (ROOT / folder).rglob("*.py")
        if "node_modules" not in path.parts
        for name in imported_modules(path)
        if name.startswith("tests") and not name.startswith("tests.support")
    }
    assert not wrong


def test_a_missing_snapshot_fails_unless_asked_to_write_it(tmp_path, monkeypatch):
    missing = tmp_path / "snapshots" / "new.ics"
    monkeypatch.delenv("UPDATE_SNAPSHOTS", raising=False)
    with pytest.raises(pytest.fail.Exception, match="UPDATE_SNAPSHOTS=1"):
        assert_matches_snapshot(b"body", missing)
    assert not missing.exists()
    monkeypatch.setenv("UPDATE_SNAPSHOTS", "1")
    assert_matches_snapshot(b"body", missing)
    monkeypatch.delenv("UPDATE_SNAPSHOTS")
    assert_matches_snapshot(b"body", missing)
    with pytest.raises(AssertionError, match="differs"):
        assert_matches_snapshot(b"other", missing)

"""Optimistic locking: a write made from an older copy of a row (another tab, another client) is
refused instead of silently overwriting a newer change."""

from __future__ import annotations

from typing import Protocol

from ..core.vocab import LifecycleConflict


class Versioned(Protocol):
    @property
    def version(self) -> int: ...


class StaleVersion(LifecycleConflict):
    """The row changed since the caller read it (the API answers 409 with the current version)."""


def ensure_version(row: Versioned, expected: int | None) -> None:
    """Refuse when `expected` (the version the caller read) is not the row's current version;
    None means the caller did not say (an unconditional write)."""
    if expected is not None and int(expected) != row.version:
        raise StaleVersion(
            {
                "version": f"This record was changed by someone else (you edited version "
                f"{expected}, it is now version {row.version}): reload it and make your "
                "change again."
            },
            code="stale",
        )

"""Analytes and their units: the conversions a lab result needs before it meets a rule.

Pure Python. Labels write counts in cells/mm³ (US) or 10⁹/L (EU), a factor of 1000 apart;
haemoglobin in g/dL or g/L; liver enzymes as multiples of the upper limit of normal.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

Analyte = Literal[
    "anc",
    "alc",
    "hb",
    "platelets",
    "wbc",
    "alt",
    "ast",
    "total_cholesterol",
    "ldl",
    "hdl",
    "triglycerides",
    "creatinine",
    "egfr",
    "crcl",
    "hbsag",
    "anti_hbc",
    "hcv_ab",
    "igra",
    "tst",
    "hcg",
]
ANALYTES: tuple[str, ...] = Analyte.__args__  # type: ignore[attr-defined]
ANALYTE_NAMES = {
    "anc": "Neutrophils (ANC)",
    "alc": "Lymphocytes (ALC)",
    "hb": "Haemoglobin",
    "platelets": "Platelets",
    "wbc": "White cells (WBC)",
    "alt": "ALT",
    "ast": "AST",
    "total_cholesterol": "Total cholesterol",
    "ldl": "LDL cholesterol",
    "hdl": "HDL cholesterol",
    "triglycerides": "Triglycerides",
    "creatinine": "Creatinine",
    "egfr": "eGFR",
    "crcl": "Creatinine clearance (Cockcroft-Gault)",
    "hbsag": "Hepatitis B surface antigen",
    "anti_hbc": "Hepatitis B core antibody",
    "hcv_ab": "Hepatitis C antibody",
    "igra": "TB interferon-gamma release assay",
    "tst": "Tuberculin skin test",
    "hcg": "Pregnancy test (hCG)",
}
assert tuple(ANALYTE_NAMES) == ANALYTES

# Screening tests: the lab's reading (positive, negative, ...) is the result; a number (IGRA
# IU/mL, TST induration in mm, an index) may come with it and is kept, not evaluated.
QUALITATIVE: frozenset[str] = frozenset({"hbsag", "anti_hbc", "hcv_ab", "igra", "tst", "hcg"})

# Each analyte's accepted units, as a factor to the first (canonical) unit of its group.
_ONE, _THOUSAND = Decimal(1), Decimal(1000)
_COUNT = {
    "cells/mm3": _ONE,
    "/mm3": _ONE,
    "cells/ul": _ONE,
    "/ul": _ONE,
    "10^9/l": _THOUSAND,
    "x10^9/l": _THOUSAND,
    "g/l": _THOUSAND,
    "10^3/ul": _THOUSAND,
    "x10^3/ul": _THOUSAND,
    "10^3/mm3": _THOUSAND,
    "x10^3/mm3": _THOUSAND,
}
_HB = {"g/dl": _ONE, "g/l": Decimal("0.1")}
_ULN = {"xuln": _ONE}
UNITS: dict[str, dict[str, Decimal]] = {
    "anc": _COUNT,
    "alc": _COUNT,
    "platelets": _COUNT,
    "wbc": _COUNT,
    "hb": _HB,
    "alt": _ULN,
    "ast": _ULN,
}


class UnitError(ValueError):
    def __init__(self, field: str, message: str):
        self.field = field
        super().__init__(message)


def accepted_units(analyte: str) -> tuple[str, ...]:
    """The units a result of `analyte` may be given in (empty: any unit the lab uses)."""
    return tuple(UNITS.get(analyte, ()))


def normalise_unit(unit: str) -> str:
    return (
        unit.strip().lower().replace("×", "x").replace("µ", "u").replace("μ", "u").replace(" ", "")
    )


def convert(*, analyte: str, value: Decimal, unit: str, to_unit: str) -> Decimal:
    """`value` in `unit`, expressed in `to_unit`; raises UnitError naming the bad field."""
    table = UNITS.get(analyte)
    if table is None:
        raise UnitError("analyte", f"no unit conversions are known for {analyte!r}")
    src, dst = normalise_unit(unit), normalise_unit(to_unit)
    if src not in table:
        accepted = ", ".join(sorted(table))
        raise UnitError(
            "unit", f"unit {unit!r} is not accepted for {analyte} (use one of: {accepted})"
        )
    if dst not in table:
        raise UnitError("unit", f"rule unit {to_unit!r} is not a unit for {analyte}")
    return Decimal(value) * table[src] / table[dst]


def check_unit(*, analyte: str, unit: str, strict: bool = False) -> None:
    """Raise UnitError unless `unit` is a known unit for `analyte`.

    Analytes without a conversion table (lipids, renal measures, serology) take any unit unless
    `strict` (threshold rules must be in a unit the service can convert to).
    """
    table = UNITS.get(analyte)
    if table is None:
        if strict:
            raise UnitError("analyte", f"no unit conversions are known for {analyte!r}")
        return
    if normalise_unit(unit) not in table:
        accepted = ", ".join(sorted(table))
        raise UnitError(
            "unit", f"unit {unit!r} is not accepted for {analyte} (use one of: {accepted})"
        )

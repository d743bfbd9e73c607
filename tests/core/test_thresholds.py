"""Threshold outcomes at and around every cut-off, per drug and jurisdiction.

The rows (data/thresholds.csv) are written from the label tables in
shared/reference/jak-monitoring.md, in the units a lab reports (10⁹/L in Europe, cells/mm³ in the
US), so unit conversion is tested too.
"""

import csv
from decimal import Decimal
from pathlib import Path

import pytest

from clinics.core.thresholds import evaluate
from clinics.core.units import UnitError

ROWS_FILE = Path(__file__).parent / "data" / "thresholds.csv"
FIELDS = "drug,indication,jurisdiction,phase,analyte,value,unit,previous,action,rule".split(",")


def rows() -> list[list[str | None]]:
    """The table's rows (lines starting with # say which label passage the rows below come
    from); an empty cell is None."""
    with ROWS_FILE.open(newline="") as f:
        lines = [line for line in f if not line.startswith("#")]
    table = csv.DictReader(lines)
    assert table.fieldnames == FIELDS, table.fieldnames
    return [[row[name] or None for name in FIELDS] for row in table]


def run(library, drug, jurisdiction, phase, analyte, value, unit, previous, indication=None):
    return evaluate(
        drug=library.drugs[drug].rules,
        protocol=library.protocols["default"].rules,
        analyte=analyte,
        value=Decimal(value),
        unit=unit,
        jurisdiction=jurisdiction,
        indication=indication,
        phase=phase,
        previous=Decimal(previous) if previous else None,
    )


@pytest.mark.parametrize(",".join(FIELDS), rows())
def test_threshold_outcome(
    library, drug, indication, jurisdiction, phase, analyte, value, unit, previous, action, rule
):
    outcome = run(
        library, drug, jurisdiction, phase, analyte, value, unit, previous, indication=indication
    )
    assert outcome.action == action, outcome
    if rule is None:
        assert outcome.findings == ()
    else:
        assert outcome.findings[0].rule_id == rule
        assert outcome.findings[0].source and outcome.findings[0].text


def test_abrocitinib_eu_lymphopenia_discontinue_asks_for_confirmation(library):
    # "ALC <0.5×10³/mm³: interrupt; ... discontinue if confirmed (EU)": the discontinue finding is
    # flagged for confirmation, and the interrupt finding is still given.
    outcome = run(library, "abrocitinib", "EU", "treatment", "alc", "0.4", "10^9/L", None)
    assert [(f.rule_id, f.confirm) for f in outcome.findings] == [
        ("abrocitinib.alc.discontinue.eu", True),
        ("abrocitinib.alc.interrupt", False),
    ]


PHASE_FOR = {
    "do_not_start": "baseline",
    "interrupt": "treatment",
    "discontinue": "treatment",
    "advise": "treatment",
    "resume": "paused",
}


def test_every_threshold_fires_on_its_side_of_each_cut_off(library):
    """Every threshold in every file, evaluated at each bound and just beyond it, fires exactly
    when the label's `<`, `≤`, `>` or `≥` says (so no rule is unreachable or off by one)."""
    step = Decimal("0.001")
    checked = 0
    for code, loaded in library.drugs.items():
        for rule in loaded.rules.thresholds:
            if rule.band is None:
                continue
            bounds = [
                b for b in (rule.band.lt, rule.band.le, rule.band.gt, rule.band.ge) if b is not None
            ]
            for value in {v for b in bounds for v in (b - step, b, b + step) if v >= 0}:
                outcome = evaluate(
                    drug=loaded.rules,
                    protocol=None,
                    analyte=rule.analyte,
                    value=value,
                    unit=rule.unit,
                    jurisdiction=(rule.jurisdictions or loaded.rules.drug.jurisdictions)[0],
                    indication=(rule.indications or [None])[0],
                    phase=(rule.phases or [PHASE_FOR[rule.action]])[0],
                )
                fired = rule.id in {f.rule_id for f in outcome.findings}
                assert fired == rule.band.contains(value), (code, rule.id, value)
                checked += 1
    assert checked > 100


@pytest.mark.parametrize(
    "field,kwargs",
    [
        ("unit", {"analyte": "hb", "unit": "mmHg"}),
        ("analyte", {"analyte": "sodium", "unit": "mmol/L"}),
        ("phase", {"analyte": "hb", "unit": "g/dL", "phase": "later"}),
    ],
)
def test_bad_input_names_the_field(library, field, kwargs):
    kwargs = {"phase": "treatment", **kwargs}
    with pytest.raises(UnitError) as err:
        run(
            library,
            "tofacitinib",
            "US",
            kwargs["phase"],
            kwargs["analyte"],
            "1",
            kwargs["unit"],
            None,
        )
    assert err.value.field == field

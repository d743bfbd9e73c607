"""Threshold outcomes at and around every cut-off, per drug and jurisdiction.

Rows are written from the label tables in shared/reference/jak-monitoring.md, in the units a
lab reports (10⁹/L in Europe, cells/mm³ in the US), so unit conversion is tested too.
"""

from decimal import Decimal

import pytest

from clinics.thresholds import UnitError, evaluate

# (drug, jurisdiction, phase, analyte, value, unit, previous, action, rule or None)
ROWS = [
    # Tofacitinib do-not-start: ALC < 500 (US) vs < 750 (EU); ANC < 1000; Hb < 9.
    ("tofacitinib", "US", "baseline", "alc", "499", "cells/mm3", None, "do_not_start", "tofacitinib.alc.no-start.us"),
    ("tofacitinib", "US", "baseline", "alc", "500", "cells/mm3", None, "none", None),
    ("tofacitinib", "US", "baseline", "alc", "0.6", "10^9/L", None, "none", None),
    ("tofacitinib", "EU", "baseline", "alc", "0.6", "10^9/L", None, "do_not_start", "tofacitinib.alc.no-start.eu"),
    ("tofacitinib", "EU", "baseline", "alc", "0.749", "10^9/L", None, "do_not_start", "tofacitinib.alc.no-start.eu"),
    ("tofacitinib", "EU", "baseline", "alc", "0.75", "10^9/L", None, "none", None),
    ("tofacitinib", "UK", "baseline", "alc", "740", "cells/mm3", None, "do_not_start", "tofacitinib.alc.no-start.eu"),
    ("tofacitinib", "US", "baseline", "anc", "999", "cells/mm3", None, "do_not_start", "tofacitinib.anc.no-start"),
    ("tofacitinib", "EU", "baseline", "anc", "1.0", "10^9/L", None, "none", None),
    ("tofacitinib", "US", "baseline", "hb", "8.9", "g/dL", None, "do_not_start", "tofacitinib.hb.no-start"),
    ("tofacitinib", "US", "baseline", "hb", "9.0", "g/dL", None, "none", None),
    ("tofacitinib", "EU", "baseline", "hb", "89", "g/L", None, "do_not_start", "tofacitinib.hb.no-start"),
    # On treatment: ALC < 500 discontinue (confirmed); EU 500-750 reduce or interrupt.
    ("tofacitinib", "US", "treatment", "alc", "499", "cells/mm3", None, "discontinue", "tofacitinib.alc.discontinue"),
    ("tofacitinib", "US", "treatment", "alc", "500", "cells/mm3", None, "none", None),
    ("tofacitinib", "US", "treatment", "alc", "600", "cells/mm3", None, "none", None),
    ("tofacitinib", "EU", "treatment", "alc", "0.6", "10^9/L", None, "interrupt", "tofacitinib.alc.reduce.eu"),
    ("tofacitinib", "EU", "treatment", "alc", "0.75", "10^9/L", None, "none", None),
    ("tofacitinib", "EU", "treatment", "alc", "0.49", "10^9/L", None, "discontinue", "tofacitinib.alc.discontinue"),
    # ANC > 1000 maintain; 500-1000 interrupt; < 500 discontinue.
    ("tofacitinib", "US", "treatment", "anc", "1001", "cells/mm3", None, "none", None),
    ("tofacitinib", "US", "treatment", "anc", "1000", "cells/mm3", None, "interrupt", "tofacitinib.anc.interrupt"),
    ("tofacitinib", "US", "treatment", "anc", "500", "cells/mm3", None, "interrupt", "tofacitinib.anc.interrupt"),
    ("tofacitinib", "US", "treatment", "anc", "499", "cells/mm3", None, "discontinue", "tofacitinib.anc.discontinue"),
    ("tofacitinib", "EU", "treatment", "anc", "0.8", "10^9/L", None, "interrupt", "tofacitinib.anc.interrupt"),
    # Hb < 8.0 or a drop > 2 g/dL interrupts; a drop of exactly 2 does not.
    ("tofacitinib", "US", "treatment", "hb", "7.9", "g/dL", None, "interrupt", "tofacitinib.hb.interrupt"),
    ("tofacitinib", "US", "treatment", "hb", "8.0", "g/dL", None, "none", None),
    ("tofacitinib", "US", "treatment", "hb", "10.9", "g/dL", "13.0", "interrupt", "tofacitinib.hb.drop"),
    ("tofacitinib", "US", "treatment", "hb", "11.0", "g/dL", "13.0", "none", None),
    ("tofacitinib", "EU", "treatment", "hb", "109", "g/L", "130", "interrupt", "tofacitinib.hb.drop"),
    ("tofacitinib", "EU", "treatment", "hb", "110", "g/L", "130", "none", None),
    # While paused, the resume rule advises once neutrophils are above 1000.
    ("tofacitinib", "US", "paused", "anc", "1001", "cells/mm3", None, "advise", "tofacitinib.anc.resume"),
    ("tofacitinib", "US", "paused", "anc", "1000", "cells/mm3", None, "interrupt", "tofacitinib.anc.interrupt"),
    # The default protocol (NHS Lanarkshire): ALT > 3x ULN stop, > 5x ULN contraindicated.
    ("tofacitinib", "UK", "treatment", "alt", "3.1", "xULN", None, "interrupt", "protocol.default.alt.stop"),
    ("tofacitinib", "UK", "treatment", "alt", "3", "xULN", None, "none", None),
    ("tofacitinib", "UK", "baseline", "alt", "5.1", "xULN", None, "do_not_start", "protocol.default.alt.contraindicated"),
    ("tofacitinib", "UK", "baseline", "alt", "5", "xULN", None, "none", None),
]


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


@pytest.mark.parametrize("drug,jurisdiction,phase,analyte,value,unit,previous,action,rule", ROWS)
def test_threshold_outcome(library, drug, jurisdiction, phase, analyte, value, unit, previous, action, rule):
    outcome = run(library, drug, jurisdiction, phase, analyte, value, unit, previous)
    assert outcome.action == action, outcome
    if rule is None:
        assert outcome.findings == ()
    else:
        assert outcome.findings[0].rule_id == rule
        assert outcome.findings[0].source and outcome.findings[0].text


PHASE_FOR = {"do_not_start": "baseline", "interrupt": "treatment", "discontinue": "treatment",
             "advise": "treatment", "resume": "paused"}  # fmt: skip


def test_every_threshold_fires_on_its_side_of_each_cut_off(library):
    """Every threshold in every file, evaluated at each bound and just beyond it, fires exactly
    when the label's `<`, `≤`, `>` or `≥` says (so no rule is unreachable or off by one)."""
    step = Decimal("0.001")
    checked = 0
    for code, loaded in library.drugs.items():
        for rule in loaded.rules.thresholds:
            if rule.band is None:
                continue
            bounds = [b for b in (rule.band.lt, rule.band.le, rule.band.gt, rule.band.ge) if b is not None]
            for value in {v for b in bounds for v in (b - step, b, b + step) if v >= 0}:
                outcome = evaluate(
                    drug=loaded.rules, protocol=None, analyte=rule.analyte, value=value, unit=rule.unit,
                    jurisdiction=(rule.jurisdictions or loaded.rules.drug.jurisdictions)[0],
                    indication=(rule.indications or [None])[0], phase=PHASE_FOR[rule.action],
                )  # fmt: skip
                fired = rule.id in {f.rule_id for f in outcome.findings}
                assert fired == rule.band.contains(value), (code, rule.id, value)
                checked += 1
    assert checked > 100


@pytest.mark.parametrize("field,kwargs", [
    ("unit", {"analyte": "hb", "unit": "mmHg"}),
    ("analyte", {"analyte": "sodium", "unit": "mmol/L"}),
    ("phase", {"analyte": "hb", "unit": "g/dL", "phase": "later"}),
])  # fmt: skip
def test_bad_input_names_the_field(library, field, kwargs):
    kwargs = {"phase": "treatment", **kwargs}
    with pytest.raises(UnitError) as err:
        run(library, "tofacitinib", "US", kwargs["phase"], kwargs["analyte"], "1", kwargs["unit"], None)
    assert err.value.field == field

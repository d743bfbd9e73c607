"""Screening readings (TB, hepatitis B and C, pregnancy) per drug and jurisdiction.

The expected rule for each positive reading is written from shared/reference/jak-monitoring.md
(§1.1 boxed warning: treat latent TB first; §2.x baseline: initiation not recommended with
active hepatitis B or C; baricitinib's HBV DNA advice for anti-HBc; pregnancy contraindications).
Where the reference is silent (an indeterminate IGRA, anti-HBc for most drugs, any positive
reading on treatment), the outcome is an `advise` finding saying that no rule covers it.
"""

from itertools import product

import pytest

from clinics.core.ruleset import load_library
from clinics.core.thresholds import evaluate
from clinics.core.units import QUALITATIVE, UnitError
from clinics.core.vocab import Interpretation
from tests.support.seed_edits import SEEDS

# drug -> analyte -> (action on a positive baseline reading, rule id; None: no rule covers it)
POSITIVE = {
    "tofacitinib": {
        "igra": ("do_not_start", "tofacitinib.tb.positive"),
        "tst": ("do_not_start", "tofacitinib.tst.positive"),
        "hbsag": ("do_not_start", "tofacitinib.hbsag.positive"),
        "anti_hbc": None,
        "hcv_ab": ("advise", "tofacitinib.hcv.positive"),
        "hcg": ("do_not_start", "tofacitinib.pregnancy.positive"),
    },
    "baricitinib": {
        "igra": ("do_not_start", "baricitinib.tb.positive"),
        "tst": ("do_not_start", "baricitinib.tst.positive"),
        "hbsag": ("do_not_start", "baricitinib.hbsag.positive"),
        "anti_hbc": ("advise", "baricitinib.anti-hbc.positive"),
        "hcv_ab": ("advise", "baricitinib.hcv.positive"),
        "hcg": ("do_not_start", "baricitinib.pregnancy.positive"),
    },
    "upadacitinib": {
        "igra": ("do_not_start", "upadacitinib.tb.positive"),
        "tst": ("do_not_start", "upadacitinib.tst.positive"),
        "hbsag": ("do_not_start", "upadacitinib.hbsag.positive"),
        "anti_hbc": ("advise", "upadacitinib.anti-hbc.positive"),
        "hcv_ab": ("advise", "upadacitinib.hcv.positive"),
        "hcg": ("do_not_start", "upadacitinib.pregnancy.positive"),
    },
    "filgotinib": {
        "igra": ("do_not_start", "filgotinib.tb.positive"),
        "tst": ("do_not_start", "filgotinib.tst.positive"),
        "hbsag": ("do_not_start", "filgotinib.hbsag.positive"),
        "anti_hbc": None,
        "hcv_ab": ("advise", "filgotinib.hcv.positive"),
        "hcg": ("do_not_start", "filgotinib.pregnancy.positive"),
    },
    "abrocitinib": {
        "igra": ("do_not_start", "abrocitinib.tb.positive"),
        "tst": ("do_not_start", "abrocitinib.tst.positive"),
        "hbsag": ("do_not_start", "abrocitinib.hbsag.positive"),
        "anti_hbc": None,
        "hcv_ab": ("advise", "abrocitinib.hcv.positive"),
        "hcg": ("do_not_start", "abrocitinib.pregnancy.positive"),
    },
    "ritlecitinib": {
        "igra": ("do_not_start", "ritlecitinib.tb.positive"),
        "tst": ("do_not_start", "ritlecitinib.tst.positive"),
        "hbsag": ("do_not_start", "ritlecitinib.hbsag.positive"),
        "anti_hbc": None,
        "hcv_ab": ("advise", "ritlecitinib.hcv.positive"),
        "hcg": ("do_not_start", "ritlecitinib.pregnancy.positive"),
    },
    "deuruxolitinib": {
        "igra": ("do_not_start", "deuruxolitinib.tb.positive"),
        "tst": ("do_not_start", "deuruxolitinib.tst.positive"),
        "hbsag": None,  # §2.7 says nothing on hepatitis
        "anti_hbc": None,
        "hcv_ab": None,
        "hcg": None,
    },
    "ruxolitinib": {
        "igra": ("advise", "ruxolitinib.tb.positive"),  # "watch for latent or active TB"
        "tst": None,
        "hbsag": None,
        "anti_hbc": None,
        "hcv_ab": None,
        "hcg": None,
    },
    "deucravacitinib": {
        "igra": ("do_not_start", "deucravacitinib.tb.positive"),
        "tst": ("do_not_start", "deucravacitinib.tst.positive"),
        "hbsag": ("do_not_start", "deucravacitinib.hbsag.positive"),
        "anti_hbc": None,
        "hcv_ab": ("advise", "deucravacitinib.hcv.positive"),
        "hcg": None,
    },
}
# Where a jurisdiction's rule differs: ritlecitinib's pregnancy contraindication is EU wording.
BY_JURISDICTION = {
    ("ritlecitinib", "US", "hcg"): ("do_not_start", "ritlecitinib.pregnancy.positive.us")
}


def cases():
    library = load_library(SEEDS)
    for drug, analytes in POSITIVE.items():
        for jurisdiction in library.drugs[drug].rules.drug.jurisdictions:
            for analyte, reading in product(sorted(analytes), Interpretation.values()):
                yield drug, jurisdiction, analyte, reading


def read(library, drug, jurisdiction, analyte, reading, phase="baseline", value=None):
    return evaluate(
        drug=library.drugs[drug].rules,
        protocol=library.protocols["default"].rules,
        analyte=analyte,
        value=value,
        unit="",
        jurisdiction=jurisdiction,
        phase=phase,
        interpretation=reading,
    )


@pytest.mark.parametrize("drug,jurisdiction,analyte,reading", list(cases()))
def test_every_screening_reading_before_the_first_dose(
    library, drug, jurisdiction, analyte, reading
):
    outcome = read(library, drug, jurisdiction, analyte, reading)
    if reading == "negative":
        assert outcome.action == "none" and outcome.findings == ()
        return
    expected = None
    if reading == "positive":
        expected = BY_JURISDICTION.get((drug, jurisdiction, analyte), POSITIVE[drug][analyte])
    if expected is None:  # the reference is silent: say so, never "none"
        (finding,) = outcome.findings
        assert outcome.action == "advise" and finding.rule_id == f"{drug}.screening.uncovered"
        assert "give no advice" in finding.text and not finding.verified
        return
    action, rule = expected
    assert outcome.action == action
    assert [f.rule_id for f in outcome.findings] == [rule]
    assert outcome.findings[0].source and outcome.findings[0].text


def test_tb_rules_say_what_the_reference_leaves_open(library):
    outcome = read(library, "tofacitinib", "US", "igra", "positive")
    text = outcome.findings[0].text
    assert "treat latent TB before starting" in text
    assert "does not say whether this lifts" in text


@pytest.mark.parametrize("analyte", sorted(QUALITATIVE))
@pytest.mark.parametrize("phase", ["treatment", "paused"])
def test_a_positive_screen_on_treatment_is_never_silent(library, analyte, phase):
    # The labels' screening rules speak before the first dose; on treatment none covers a
    # positive reading, so staff are told so (an open finding) rather than given "none".
    for drug in POSITIVE:
        outcome = read(
            library, drug, "EU" if drug == "filgotinib" else "US", analyte, "positive", phase
        )
        assert outcome.action == "advise", (drug, analyte)
        assert outcome.findings[0].rule_id == f"{drug}.screening.uncovered"


def test_a_number_with_a_screening_reading_is_kept_not_evaluated(library):
    # IGRA 0.52 IU/mL read as positive: the reading decides (no rule uses the number).
    outcome = read(library, "baricitinib", "EU", "igra", "positive", value=0.52)
    assert outcome.findings[0].rule_id == "baricitinib.tb.positive"


def test_a_screening_result_stored_without_its_reading_is_flagged(library):
    outcome = read(library, "upadacitinib", "US", "hbsag", "")
    assert outcome.action == "advise"
    assert "no reading (positive, negative, ...) was recorded" in outcome.findings[0].text


@pytest.mark.parametrize(
    "analyte,reading,field",
    [
        ("igra", "maybe", "interpretation"),
        ("anc", "positive", "interpretation"),
        ("anc", "", "value"),
    ],
)
def test_bad_readings_name_the_field(library, analyte, reading, field):
    with pytest.raises(UnitError) as err:
        read(library, "tofacitinib", "US", analyte, reading)
    assert err.value.field == field


def test_the_preview_lists_screening_do_not_start_rules(library):
    rules = library.drugs["upadacitinib"].rules.screening
    blocks = {r.id: r.condition for r in rules if r.action == "do_not_start"}
    assert blocks["upadacitinib.hbsag.positive"] == "positive"

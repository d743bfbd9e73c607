"""Planned dates against the label, drug by drug (reference: shared/reference/jak-monitoring.md).

Each row says: for a course starting on START in a jurisdiction, there is a planned check of
KIND, asked for by RULE, whose window holds DATE (and, where the label gives a window, exactly
that window). Dates are written out by hand from the label wording, not computed by the code.
"""

from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clinics.core.planning import CourseFacts, contraception_after, plan_course
from clinics.core.vocab import ChildPugh, CourseCondition, Interacting, RenalMeasure

START = date(2026, 1, 5)  # a Monday; 4w = 2026-02-02, 8w = 2026-03-02, 12w = 2026-03-30

# (drug, jurisdiction, kind, rule, date inside the window, exact window or None)
LABEL_ROWS = [
    # Tofacitinib: lymphocytes baseline then every 3 months; neutrophils and Hb baseline,
    # 4-8 weeks, then every 3 months; lipids 4-8 weeks (US) / 8 weeks (UK/AU); annual skin exam.
    ("tofacitinib", "US", "cbc", "tofacitinib.cbc.alc", START, (date(2025, 12, 8), START)),
    ("tofacitinib", "US", "cbc", "tofacitinib.cbc.anc-hb", START, None),
    (
        "tofacitinib",
        "US",
        "cbc",
        "tofacitinib.cbc.anc-hb",
        date(2026, 2, 2),
        (date(2026, 2, 2), date(2026, 3, 2)),
    ),
    ("tofacitinib", "US", "cbc", "tofacitinib.cbc.alc", date(2026, 4, 5), None),
    ("tofacitinib", "US", "cbc", "tofacitinib.cbc.anc-hb", date(2026, 7, 5), None),
    ("tofacitinib", "US", "cbc", "tofacitinib.cbc.alc", date(2026, 10, 5), None),
    ("tofacitinib", "US", "cbc", "tofacitinib.cbc.alc", date(2027, 1, 5), None),
    (
        "tofacitinib",
        "US",
        "lipids",
        "tofacitinib.lipids.us",
        date(2026, 2, 2),
        (date(2026, 2, 2), date(2026, 3, 2)),
    ),
    ("tofacitinib", "EU", "lipids", "tofacitinib.lipids.eu", date(2026, 3, 2), None),
    ("tofacitinib", "US", "liver", "tofacitinib.liver", START, None),
    ("tofacitinib", "US", "renal", "tofacitinib.renal.baseline", START, None),
    ("tofacitinib", "US", "tb", "tofacitinib.tb", START, None),
    ("tofacitinib", "US", "hepatitis", "tofacitinib.hepatitis", START, None),
    ("tofacitinib", "US", "zoster_vaccination", "tofacitinib.zoster", START, None),
    ("tofacitinib", "US", "pregnancy", "tofacitinib.pregnancy", START, None),
    ("tofacitinib", "US", "skin_exam", "protocol.default.skin", date(2027, 1, 5), None),
    ("tofacitinib", "US", "skin_exam", "protocol.default.skin", date(2028, 1, 5), None),
    # Baricitinib: TB, viral hepatitis, CBC, hepatic and renal function (US eGFR, EU CrCl) at
    # baseline; ANC/ALC/Hb "at baseline and thereafter according to routine patient management"
    # (protocol: 4 weeks, 12 weeks, then every 3 months); "lipids 12 weeks after initiation".
    ("baricitinib", "US", "cbc", "baricitinib.cbc", START, (date(2025, 12, 8), START)),
    ("baricitinib", "US", "liver", "baricitinib.liver", START, None),
    ("baricitinib", "US", "renal", "baricitinib.renal.baseline.us", START, None),
    ("baricitinib", "EU", "renal", "baricitinib.renal.baseline.eu", START, None),
    ("baricitinib", "UK", "renal", "baricitinib.renal.baseline.eu", START, None),
    ("baricitinib", "US", "tb", "baricitinib.tb", START, None),
    ("baricitinib", "US", "hepatitis", "baricitinib.hepatitis", START, None),
    ("baricitinib", "US", "zoster_vaccination", "baricitinib.zoster", START, None),
    ("baricitinib", "EU", "pregnancy", "baricitinib.pregnancy", START, None),
    ("baricitinib", "US", "lipids", "baricitinib.lipids", date(2026, 3, 30), None),
    ("baricitinib", "EU", "lipids", "baricitinib.lipids", date(2026, 3, 30), None),
    ("baricitinib", "US", "cbc", "protocol.default.cbc", date(2026, 2, 2), None),
    ("baricitinib", "US", "cbc", "protocol.default.cbc", date(2026, 3, 30), None),
    ("baricitinib", "EU", "cbc", "protocol.default.cbc", date(2026, 6, 30), None),
    ("baricitinib", "EU", "cbc", "protocol.default.cbc", date(2026, 9, 30), None),
    ("baricitinib", "US", "skin_exam", "protocol.default.skin", date(2027, 1, 5), None),
    # Upadacitinib: TB, viral hepatitis, CBC, hepatic function, pregnancy status at baseline;
    # neutrophils, lymphocytes, Hb and liver enzymes "according to routine patient management";
    # "lipids 12 weeks after initiation".
    ("upadacitinib", "US", "cbc", "upadacitinib.cbc", START, (date(2025, 12, 8), START)),
    ("upadacitinib", "US", "liver", "upadacitinib.liver", START, None),
    ("upadacitinib", "US", "renal", "upadacitinib.renal.baseline", START, None),
    ("upadacitinib", "US", "tb", "upadacitinib.tb", START, None),
    ("upadacitinib", "EU", "hepatitis", "upadacitinib.hepatitis", START, None),
    ("upadacitinib", "US", "zoster_vaccination", "upadacitinib.zoster", START, None),
    ("upadacitinib", "US", "pregnancy", "upadacitinib.pregnancy", START, None),
    ("upadacitinib", "US", "lipids", "upadacitinib.lipids", date(2026, 3, 30), None),
    ("upadacitinib", "UK", "lipids", "upadacitinib.lipids", date(2026, 3, 30), None),
    ("upadacitinib", "US", "cbc", "protocol.default.cbc", date(2026, 2, 2), None),
    ("upadacitinib", "US", "cbc", "protocol.default.cbc", date(2026, 3, 30), None),
    ("upadacitinib", "EU", "cbc", "protocol.default.cbc", date(2026, 6, 30), None),
    ("upadacitinib", "US", "skin_exam", "protocol.default.skin", date(2027, 1, 5), None),
    # Filgotinib (EU/UK only), SmPC Table 1: ANC, ALC, Hb "before initiation, then according to
    # routine patient management"; "lipids 12 weeks after initiation"; TB and viral hepatitis
    # screen before starting; CrCl for the dose; skin exam for all patients.
    ("filgotinib", "EU", "cbc", "filgotinib.cbc", START, (date(2025, 12, 8), START)),
    ("filgotinib", "EU", "renal", "filgotinib.renal.baseline", START, None),
    ("filgotinib", "EU", "tb", "filgotinib.tb", START, None),
    ("filgotinib", "UK", "hepatitis", "filgotinib.hepatitis", START, None),
    ("filgotinib", "EU", "zoster_vaccination", "filgotinib.zoster", START, None),
    ("filgotinib", "EU", "pregnancy", "filgotinib.pregnancy", START, None),
    ("filgotinib", "EU", "lipids", "filgotinib.lipids", date(2026, 3, 30), None),
    ("filgotinib", "UK", "lipids", "filgotinib.lipids", date(2026, 3, 30), None),
    ("filgotinib", "EU", "cbc", "protocol.default.cbc", date(2026, 2, 2), None),
    ("filgotinib", "EU", "cbc", "protocol.default.cbc", date(2026, 3, 30), None),
    ("filgotinib", "UK", "cbc", "protocol.default.cbc", date(2026, 6, 30), None),
    ("filgotinib", "EU", "skin_exam", "protocol.default.skin", date(2027, 1, 5), None),
    # Abrocitinib: TB, viral hepatitis, CBC (incl. platelets) and immunisations "including herpes
    # zoster" before starting; "CBC before initiation, 4 weeks after initiation, then routine";
    # lipids "before initiation, 4 weeks after" (EU) / "about 4 weeks after initiation" (US).
    ("abrocitinib", "US", "cbc", "abrocitinib.cbc", START, (date(2025, 12, 8), START)),
    ("abrocitinib", "US", "cbc", "abrocitinib.cbc", date(2026, 2, 2), None),
    ("abrocitinib", "EU", "cbc", "abrocitinib.cbc", date(2026, 2, 2), None),
    ("abrocitinib", "US", "lipids", "abrocitinib.lipids.us", date(2026, 2, 2), None),
    ("abrocitinib", "EU", "lipids", "abrocitinib.lipids.eu", START, None),
    ("abrocitinib", "EU", "lipids", "abrocitinib.lipids.eu", date(2026, 2, 2), None),
    ("abrocitinib", "US", "renal", "abrocitinib.renal.baseline.us", START, None),
    ("abrocitinib", "EU", "renal", "abrocitinib.renal.baseline.eu", START, None),
    ("abrocitinib", "US", "tb", "abrocitinib.tb", START, None),
    ("abrocitinib", "US", "hepatitis", "abrocitinib.hepatitis", START, None),
    ("abrocitinib", "US", "zoster_vaccination", "abrocitinib.zoster", START, None),
    ("abrocitinib", "EU", "pregnancy", "abrocitinib.pregnancy", START, None),
    ("abrocitinib", "US", "cbc", "protocol.default.cbc", date(2026, 2, 2), None),
    ("abrocitinib", "US", "cbc", "protocol.default.cbc", date(2026, 3, 30), None),
    ("abrocitinib", "EU", "cbc", "protocol.default.cbc", date(2026, 6, 30), None),
    ("abrocitinib", "US", "skin_exam", "protocol.default.skin", date(2027, 1, 5), None),
    # Ritlecitinib: TB, viral hepatitis, immunisations "including herpes zoster" and a liver
    # function test (US) before starting; ALC and platelets "before initiation, 4 weeks after
    # initiation, then according to routine patient management"; pregnancy contraindicated (EU).
    ("ritlecitinib", "US", "cbc", "ritlecitinib.cbc", START, (date(2025, 12, 8), START)),
    ("ritlecitinib", "US", "cbc", "ritlecitinib.cbc", date(2026, 2, 2), None),
    ("ritlecitinib", "EU", "cbc", "ritlecitinib.cbc", date(2026, 2, 2), None),
    ("ritlecitinib", "US", "liver", "ritlecitinib.liver.baseline.us", START, None),
    ("ritlecitinib", "US", "tb", "ritlecitinib.tb", START, None),
    ("ritlecitinib", "US", "hepatitis", "ritlecitinib.hepatitis", START, None),
    ("ritlecitinib", "US", "zoster_vaccination", "ritlecitinib.zoster", START, None),
    ("ritlecitinib", "EU", "pregnancy", "ritlecitinib.pregnancy.eu", START, None),
    ("ritlecitinib", "US", "cbc", "protocol.default.cbc", date(2026, 2, 2), None),
    ("ritlecitinib", "US", "cbc", "protocol.default.cbc", date(2026, 3, 30), None),
    ("ritlecitinib", "EU", "cbc", "protocol.default.cbc", date(2026, 6, 30), None),
    ("ritlecitinib", "US", "skin_exam", "protocol.default.skin", date(2027, 1, 5), None),
]

# Protocol layer (NHS Lanarkshire): liver and renal at 4 weeks, 12 weeks, then every 3 months.
PROTOCOL_ROWS = [
    ("liver", "protocol.default.liver", date(2026, 2, 2)),
    ("liver", "protocol.default.liver", date(2026, 3, 30)),
    ("liver", "protocol.default.liver", date(2026, 6, 30)),
    ("renal", "protocol.default.renal", date(2026, 2, 2)),
    ("renal", "protocol.default.renal", date(2026, 3, 30)),
    ("renal", "protocol.default.renal", date(2026, 9, 30)),
]


def _plan(library, drug, jurisdiction, **facts):
    facts.setdefault("sex_at_birth", "female")
    return plan_course(
        drug=library.drugs[drug].rules,
        protocol=library.protocols["default"].rules,
        facts=CourseFacts(start=START, jurisdiction=jurisdiction, **facts),
    )


def _matching(plan, kind, rule, when):
    return [
        c
        for c in plan.checks
        if c.kind == kind and rule in c.rule_ids and c.window_start <= when <= c.window_end
    ]


@pytest.mark.parametrize("drug,jurisdiction,kind,rule,when,window", LABEL_ROWS)
def test_label_check_is_planned(library, drug, jurisdiction, kind, rule, when, window):
    found = _matching(_plan(library, drug, jurisdiction), kind, rule, when)
    assert len(found) == 1, f"expected one {kind} check by {rule} around {when}, got {found}"
    if window is not None:
        assert (found[0].window_start, found[0].window_end) == window


@pytest.mark.parametrize(
    "drug", ["tofacitinib", "baricitinib", "upadacitinib", "abrocitinib", "ritlecitinib"]
)
@pytest.mark.parametrize("kind,rule,when", PROTOCOL_ROWS)
def test_protocol_checks_for_every_drug(library, drug, kind, rule, when):
    assert len(_matching(_plan(library, drug, "US"), kind, rule, when)) == 1


def test_tofacitinib_eu_has_no_us_lipid_window(library):
    plan = _plan(library, "tofacitinib", "EU")
    assert not [c for c in plan.checks if "tofacitinib.lipids.us" in c.rule_ids]


def test_pregnancy_check_only_for_females(library):
    male = _plan(library, "tofacitinib", "US", sex_at_birth="male")
    unknown = _plan(library, "tofacitinib", "US", sex_at_birth=None)
    assert not [c for c in male.checks if c.kind == "pregnancy"]
    assert [c for c in unknown.checks if c.kind == "pregnancy"], "unknown sex keeps the check"


@pytest.mark.parametrize("kind,rule,when", PROTOCOL_ROWS)
def test_protocol_checks_for_filgotinib_in_the_eu(library, kind, rule, when):
    assert len(_matching(_plan(library, "filgotinib", "EU"), kind, rule, when)) == 1


def test_default_protocol_plans_lipids_at_12_weeks(library):
    plan = _plan(library, "ritlecitinib", "US")
    assert [
        c
        for c in plan.checks
        if c.kind == "lipids" and c.window_start <= date(2026, 3, 30) <= c.window_end
    ]


@pytest.mark.parametrize("jurisdiction,planned", [("US", False), ("EU", True), ("UK", True)])
def test_ritlecitinib_pregnancy_check_only_where_the_smpc_contraindicates(
    library, jurisdiction, planned
):
    # "pregnancy and breastfeeding contraindicated (EU)"; the US label has no pregnancy check.
    plan = _plan(library, "ritlecitinib", jurisdiction)
    assert bool([c for c in plan.checks if c.kind == "pregnancy"]) == planned


def test_abrocitinib_cbc_after_a_dose_increase_is_us_only_and_unverified(library):
    # US "4 weeks after a dose increase" is a lead marked [UNVERIFIED] (reference §2.5, §6).
    increased = (date(2026, 5, 4),)  # 4w later = 2026-06-01
    us = _plan(library, "abrocitinib", "US", dose_increases=increased)
    found = _matching(us, "cbc", "abrocitinib.cbc.dose-increase.us", date(2026, 6, 1))
    assert len(found) == 1 and not found[0].verified
    eu = _plan(library, "abrocitinib", "EU", dose_increases=increased)
    assert {c.key for c in eu.checks} == {c.key for c in _plan(library, "abrocitinib", "EU").checks}


@pytest.mark.parametrize(
    "drug,jurisdiction",
    [
        ("baricitinib", "US"),
        ("upadacitinib", "US"),
        ("filgotinib", "EU"),
        ("ritlecitinib", "US"),
    ],
)
def test_dose_increase_adds_nothing_where_no_label_asks(library, drug, jurisdiction):
    increased = _plan(library, drug, jurisdiction, dose_increases=(date(2026, 5, 4),))
    assert {c.key for c in increased.checks} == {
        c.key for c in _plan(library, drug, jurisdiction).checks
    }


@pytest.mark.parametrize(
    "jurisdiction,measure,not_measure",
    [("US", "egfr", "crcl"), ("EU", "crcl", "egfr"), ("UK", "crcl", "egfr")],
)
def test_baricitinib_baseline_renal_measure_by_jurisdiction(
    library, jurisdiction, measure, not_measure
):
    # US: "eGFR at baseline"; EU: dose by creatinine clearance.
    (renal,) = [
        c
        for c in _plan(library, "baricitinib", jurisdiction).checks
        if c.kind == "renal" and c.baseline
    ]
    assert measure in renal.analytes and not_measure not in renal.analytes


# (jurisdiction, indication, measure, value, advice rule ids)
BARICITINIB_RENAL_ADVICE = [
    # US RA: "eGFR 30–<60 → 1 mg QD; <30 not recommended".
    ("US", "ra", "egfr", 60, set()),
    ("US", "ra", "egfr", 59.9, {"baricitinib.renal.moderate.us"}),
    ("US", "ra", "egfr", 30, {"baricitinib.renal.moderate.us"}),
    ("US", "ra", "egfr", 29.9, {"baricitinib.renal.severe.us"}),
    ("US", "ra", "crcl", 45, set()),  # the US rule is written in eGFR
    # EU: "CrCl 30–60 → 2 mg QD; CrCl <30 not recommended".
    ("EU", "ra", "crcl", 60.1, set()),
    ("EU", "ra", "crcl", 60, {"baricitinib.renal.moderate.eu"}),
    ("EU", "ad", "crcl", 30, {"baricitinib.renal.moderate.eu"}),
    ("UK", "ra", "crcl", 29.9, {"baricitinib.renal.severe.eu"}),
    ("EU", "ra", "egfr", 45, set()),  # the EU rule is written in CrCl
]


@pytest.mark.parametrize("jurisdiction,indication,measure,value,expected", BARICITINIB_RENAL_ADVICE)
def test_baricitinib_renal_dose_advice(library, jurisdiction, indication, measure, value, expected):
    plan = _plan(
        library,
        "baricitinib",
        jurisdiction,
        indication=indication,
        renal_value=value,
        renal_measure=measure,
    )
    assert {a.rule_id for a in plan.advice} == expected
    assert all(
        a.not_recommended == a.rule_id.startswith("baricitinib.renal.severe") for a in plan.advice
    )


@pytest.mark.parametrize(
    "jurisdiction,age,expected",
    [
        # EU: "2 mg QD is recommended ... for patients aged ≥65"; Article 20: ≥65 only if no alternative.
        ("EU", 65, {"baricitinib.age.dose.eu", "baricitinib.age.alternative.eu"}),
        ("UK", 80, {"baricitinib.age.dose.eu", "baricitinib.age.alternative.eu"}),
        ("EU", 64, set()),
        ("US", 70, set()),  # "US has no age-based dose rule except upadacitinib AD"
    ],
)
def test_baricitinib_age_advice(library, jurisdiction, age, expected):
    plan = _plan(library, "baricitinib", jurisdiction, indication="ra", age_years=age)
    assert {a.rule_id for a in plan.advice} == expected


@pytest.mark.parametrize(
    "drug,rule",
    [
        ("tofacitinib", "tofacitinib.age.eu"),
        ("baricitinib", "baricitinib.age.alternative.eu"),
        ("upadacitinib", "upadacitinib.age.alternative.eu"),
        ("filgotinib", "filgotinib.age.alternative"),
        ("abrocitinib", "abrocitinib.age.alternative.eu"),
    ],
)
def test_eu_age_65_use_only_without_alternative(library, drug, rule):
    # EMA Article 20 / MHRA 2023: "≥65 years ... only if no suitable treatment alternatives".
    assert rule in {a.rule_id for a in _plan(library, drug, "EU", age_years=65).advice}
    assert rule not in {a.rule_id for a in _plan(library, drug, "EU", age_years=64).advice}


def test_every_check_says_why_with_source(library):
    for code in library.drugs:
        jurisdiction = library.drugs[code].rules.drug.jurisdictions[0]
        for check in _plan(library, code, jurisdiction).checks:
            assert check.reasons, check
            assert all(
                r.source and r.rule_id in check.why and r.source in check.why for r in check.reasons
            )
            assert check.window_start <= check.due <= check.window_end


def test_no_two_checks_of_a_kind_overlap(library):
    """Merging folds overlapping windows of one kind into one check (never duplicates)."""
    for code in library.drugs:
        for jurisdiction in library.drugs[code].rules.drug.jurisdictions:
            checks = _plan(library, code, jurisdiction).checks
            assert len({c.key for c in checks}) == len(checks)
            by_kind = {}
            for c in checks:
                by_kind.setdefault((c.kind, c.baseline), []).append(c)
            for same in by_kind.values():
                same.sort(key=lambda c: c.window_start)
                for a, b in zip(same, same[1:], strict=False):
                    assert a.window_end < b.window_start, (code, jurisdiction, a.key, b.key)


def test_blood_tests_with_overlapping_windows_share_a_day(library):
    plan = _plan(library, "tofacitinib", "US")
    twelve_weeks = [
        c
        for c in plan.checks
        if c.window_start <= date(2026, 3, 30) <= c.window_end
        and c.kind in ("cbc", "liver", "renal")
    ]
    assert {c.kind for c in twelve_weeks} == {"cbc", "liver", "renal"}
    assert len({c.due for c in twelve_weeks}) == 1


def test_horizon_is_24_months_by_default(library):
    plan = _plan(library, "tofacitinib", "US")
    assert max(c.due for c in plan.checks) <= date(2028, 1, 5)
    assert max(c.window_end for c in plan.checks) >= date(2027, 12, 1)


def test_plan_is_deterministic(library):
    assert _plan(library, "baricitinib", "EU", age_years=70) == _plan(
        library, "baricitinib", "EU", age_years=70
    )


# A renal value in another measure than the label's bands: never silent.
# (drug, jurisdiction, indication, measure entered, the measure the label uses, its rules)
RENAL_GAPS = [
    ("tofacitinib", "US", "ra", "egfr", "crcl", {"tofacitinib.renal.moderate.us"}),
    ("tofacitinib", "UK", "ra", "egfr", "crcl", {"tofacitinib.renal.severe.eu"}),
    ("baricitinib", "US", "ra", "crcl", "egfr", {"baricitinib.renal.moderate.us"}),
    ("baricitinib", "EU", "ra", "egfr", "crcl", {"baricitinib.renal.moderate.eu"}),
    ("upadacitinib", "US", "ra", "crcl", "egfr", set()),
    ("filgotinib", "EU", "ra", "egfr", "crcl", {"filgotinib.renal.moderate"}),
    ("abrocitinib", "US", "ad", "crcl", "egfr", set()),
]


@pytest.mark.parametrize("drug,jurisdiction,indication,given,needed,some_rules", RENAL_GAPS)
def test_a_renal_value_in_another_measure_says_which_to_enter(
    library, drug, jurisdiction, indication, given, needed, some_rules
):
    for value in (10, 29.9, 30, 45, 50, 59.9, 60, 90):
        plan = _plan(
            library,
            drug,
            jurisdiction,
            indication=indication,
            renal_value=value,
            renal_measure=given,
        )
        assert not [a for a in plan.advice if ".renal." in a.rule_id]  # cannot be applied
        (gap,) = plan.renal_gaps
        assert (gap.measure, gap.given) == (needed, given)
        assert some_rules <= set(gap.rule_ids) and gap.rule_ids
        assert gap.text.startswith("This label's renal advice uses ") and "enter it" in gap.text
        same = _plan(
            library,
            drug,
            jurisdiction,
            indication=indication,
            renal_value=value,
            renal_measure=needed,
        )
        assert same.renal_gaps == ()  # entered in the label's measure: applied, no gap


def test_no_renal_value_asks_for_the_labels_measure(library):
    (gap,) = _plan(library, "baricitinib", "US", indication="ra").renal_gaps
    assert (gap.measure, gap.given) == ("egfr", None)
    assert gap.text.startswith("This label's renal advice uses eGFR") and "entered" not in gap.text


def test_creatinine_clearance_is_estimated_where_the_label_uses_it(library):
    # Tofacitinib US bands are CLcr by Cockcroft-Gault; the clinic has creatinine and weight.
    # (140 - 60) x 70 / (72 x 1.6 mg/dL) = 48.6 mL/min: moderate impairment.
    facts = dict(
        age_years=60, sex_at_birth="male", weight_kg=Decimal(70), creatinine=Decimal("1.6")
    )
    plan = _plan(
        library, "tofacitinib", "US", dose_code="5mg-bid", creatinine_unit="mg/dL", **facts
    )
    (renal,) = [a for a in plan.advice if ".renal." in a.rule_id]
    assert renal.rule_id == "tofacitinib.renal.moderate.us" and "48.6 mL/min" in renal.basis
    assert plan.renal_gaps == ()
    # The same creatinine in umol/L (1.6 x 88.4 = 141.44), for a woman: x 0.85 = 41.3 mL/min.
    facts.update(sex_at_birth="female", creatinine=Decimal("141.44"))
    plan = _plan(
        library, "tofacitinib", "US", dose_code="5mg-bid", creatinine_unit="umol/L", **facts
    )
    assert "41.3 mL/min" in plan.advice[0].basis
    # An entered clearance wins over the estimate; without weight the gap names what is missing.
    entered = _plan(
        library,
        "tofacitinib",
        "US",
        renal_value=Decimal(70),
        renal_measure="crcl",
        **facts,
        creatinine_unit="umol/L",
    )
    assert not [a for a in entered.advice if ".renal." in a.rule_id]
    facts.pop("weight_kg")
    (gap,) = _plan(library, "tofacitinib", "US", creatinine_unit="umol/L", **facts).renal_gaps
    assert gap.missing_for_estimate == ("weight",) and "Cockcroft-Gault" in gap.text


@pytest.mark.parametrize(
    "dose,indication,crcl,rule",
    [
        ("5mg-bid", "ra", 40, "tofacitinib.renal.moderate.us"),
        ("11mg-qd-xr", "ra", 40, "tofacitinib.renal.moderate.us.xr"),
        ("10mg-bid", "uc", 40, "tofacitinib.renal.us.uc-high"),
        ("10mg-bid", "uc", 50, "tofacitinib.renal.us.uc-high"),
        ("10mg-bid", "uc", 50.1, None),
        ("22mg-qd-xr", "uc", 20, "tofacitinib.renal.us.xr22"),
        ("5mg-bid", "ra", 29.9, "tofacitinib.renal.severe.us"),
        ("11mg-qd-xr", "ra", 29.9, "tofacitinib.renal.severe.us.xr"),
        ("5mg-qd", "ra", 20, None),  # already the reduced dose
    ],
)
def test_tofacitinib_renal_advice_follows_the_dose(library, dose, indication, crcl, rule):
    plan = _plan(
        library,
        "tofacitinib",
        "US",
        indication=indication,
        dose_code=dose,
        renal_value=Decimal(str(crcl)),
        renal_measure="crcl",
    )
    assert [a.rule_id for a in plan.advice if ".renal." in a.rule_id] == ([rule] if rule else [])


def _subset_or_none(data, codes, label):
    """None (not reviewed) or a subset of `codes` (reviewed; possibly none apply)."""
    return data.draw(
        st.none() | st.lists(st.sampled_from(codes), unique=True).map(tuple), label=label
    )


@settings(max_examples=500, deadline=None)
@given(data=st.data())
def test_no_course_facts_leave_a_dose_rule_silently_unapplied(library, data):
    """Whatever the drug, jurisdiction, indication, dose and course facts: every applicable
    dose rule is applied (its condition holds or not), or the fact it needs is asked for (a renal
    measure not entered and not estimable, a Child-Pugh class, medicines or conditions not
    reviewed). Never "no advice" where a rule exists for a measure the patient has in another
    form: creatinine clearance is estimated from creatinine, weight, age and sex when known."""
    code = data.draw(st.sampled_from(sorted(library.drugs)), label="drug")
    drug = library.drugs[code].rules
    jurisdiction = data.draw(st.sampled_from(drug.drug.jurisdictions), label="jurisdiction")
    indication = data.draw(st.sampled_from(sorted(i.code for i in drug.drug.indications)))
    dose = data.draw(st.none() | st.sampled_from([d.code for d in drug.doses]), label="dose")
    measure = data.draw(st.none() | st.sampled_from(RenalMeasure.values()), label="measure")
    value = data.draw(st.decimals(min_value=0, max_value=200, places=1), label="value")
    creatinine = data.draw(st.none() | st.decimals(min_value=20, max_value=900, places=0))
    weight = data.draw(st.none() | st.decimals(min_value=30, max_value=200, places=1))
    facts = CourseFacts(
        start=START,
        jurisdiction=jurisdiction,
        indication=indication,
        age_years=data.draw(st.integers(min_value=12, max_value=95), label="age"),
        sex_at_birth=data.draw(st.sampled_from(["female", "male", None]), label="sex"),
        renal_value=value if measure else None,
        renal_measure=measure,
        dose_code=dose,
        child_pugh=data.draw(st.none() | st.sampled_from(ChildPugh.values()), label="pugh"),
        interacting=_subset_or_none(data, Interacting.values(), "interacting"),
        conditions=_subset_or_none(data, CourseCondition.values(), "conditions"),
        weight_kg=weight,
        creatinine=creatinine,
        creatinine_unit="umol/L" if creatinine is not None else None,
    )
    plan = plan_course(drug=drug, protocol=library.protocols["default"].rules, facts=facts)
    applied = {a.rule_id: a for a in plan.advice}
    gaps = {r: g for g in plan.renal_gaps for r in g.rule_ids}
    asked = {r: q.fact for q in plan.questions for r in q.rule_ids}
    estimable = None not in (creatinine, weight, facts.sex_at_birth)
    for rule in drug.dose_advice:
        if not rule.applies(jurisdiction=jurisdiction, indication=indication):
            continue
        if not rule.for_dose(dose):
            assert rule.id not in applied and rule.id not in gaps and rule.id not in asked
            continue
        if rule.factor == "renal":
            if rule.measure == measure:
                assert (rule.id in applied) == rule.band.contains(value) and rule.id not in gaps
            elif rule.measure == "crcl" and estimable:
                assert rule.id not in gaps and (rule.id not in applied or applied[rule.id].basis)
            else:
                assert rule.id not in applied and rule.id in gaps
        elif rule.factor in ("hepatic", "interaction", "condition"):
            fact = {"hepatic": "child_pugh", "interaction": "interacting"}.get(
                rule.factor, "conditions"
            )
            recorded = getattr(facts, fact)
            if recorded is None:
                assert asked.get(rule.id) == fact and rule.id not in applied
            else:
                wanted = getattr(rule, fact)
                holds = (
                    recorded in wanted
                    if fact == "child_pugh"
                    else bool(set(recorded) & set(wanted))
                )
                assert (rule.id in applied) == holds and rule.id not in asked


@pytest.mark.parametrize(
    "sex,age,recorded,planned",
    [
        ("female", 30, None, True),
        ("female", 12, None, True),
        ("female", 55, None, True),
        ("female", 56, None, False),  # a pregnancy test is not planned for a 68-year-old
        ("female", 68, None, False),
        ("female", 11, None, False),
        ("male", 30, None, False),
        (None, 30, None, True),  # unknown: kept, staff can mark it not needed
        ("female", 68, True, True),  # staff recorded it: always wins
        ("female", 30, False, False),
        ("male", 30, True, True),
    ],
)
def test_pregnancy_tests_follow_reproductive_potential(library, sex, age, recorded, planned):
    for drug in ("tofacitinib", "upadacitinib", "baricitinib"):
        plan = _plan(
            library,
            drug,
            "US",
            sex_at_birth=sex,
            age_years=age,
            reproductive_potential=recorded,
        )
        assert any(c.kind == "pregnancy" for c in plan.checks) == planned, drug


@pytest.mark.parametrize(
    "drug,jurisdiction,last_dose,until,rule",
    [
        ("tofacitinib", "US", date(2026, 3, 2), date(2026, 3, 30), "tofacitinib.contraception"),
        ("upadacitinib", "EU", date(2026, 3, 2), date(2026, 3, 30), "upadacitinib.contraception"),
        ("baricitinib", "UK", date(2026, 3, 2), date(2026, 3, 9), "baricitinib.contraception"),
        ("abrocitinib", "EU", date(2026, 1, 31), date(2026, 2, 28), "abrocitinib.contraception.eu"),
        ("abrocitinib", "US", date(2026, 3, 2), None, None),  # the reference gives no US period
        ("filgotinib", "EU", date(2026, 3, 2), date(2026, 3, 9), "filgotinib.contraception"),
        ("ritlecitinib", "US", date(2026, 3, 2), date(2026, 4, 2), "ritlecitinib.contraception"),
    ],
)
def test_contraception_period_after_the_last_dose(
    library, protocol, drug, jurisdiction, last_dose, until, rule
):
    facts = CourseFacts(start=START, jurisdiction=jurisdiction, sex_at_birth="female", age_years=30)
    found = contraception_after(
        drug=library.drugs[drug].rules, protocol=protocol, facts=facts, last_dose=last_dose
    )
    assert (found and found.until, found and found.rule_id) == (until, rule)
    if found is not None:
        assert found.verified == (drug not in ("filgotinib", "ritlecitinib"))
        male = replace(facts, sex_at_birth="male")
        assert (
            contraception_after(
                drug=library.drugs[drug].rules, protocol=protocol, facts=male, last_dose=last_dose
            )
            is None
        )


def test_ruxolitinib_counts_are_every_2_to_4_weeks_until_the_dose_is_stable(library):
    # "monitor CBCs every 2 to 4 weeks until doses are stabilized, and then as clinically
    # indicated": each until-stable check falls 2 to 4 weeks after the one before it.
    plan = _plan(library, "ruxolitinib", "US", indication="mf")
    titration = [c for c in plan.checks if c.key.startswith("cbc/stable-")]
    assert len(titration) > 20  # no end until a clinician marks the dose stable
    for n, check in enumerate(titration[:6]):
        previous = START + timedelta(weeks=4 * n)  # the one before it, as planned
        assert previous + timedelta(weeks=2) <= check.window_start <= check.due
        assert check.due <= check.window_end <= previous + timedelta(weeks=4)
    stable = _plan(library, "ruxolitinib", "US", indication="mf", dose_stable_on=date(2026, 3, 1))
    kept = [c for c in stable.checks if c.key.startswith("cbc/stable-")]
    assert kept and all(c.window_start < date(2026, 3, 1) for c in kept)
    # after that: the protocol's routine counts, every 3 months
    assert any(c.kind == "cbc" and c.due > date(2026, 6, 1) for c in stable.checks)


def test_the_three_further_drugs_plan_only_what_their_labels_give(library):
    deuru = _plan(library, "deuruxolitinib", "US", indication="aa")
    label = {r.rule_id for c in deuru.checks for r in c.reasons if r.layer == "label"}
    assert label == {"deuruxolitinib.cbc", "deuruxolitinib.renal", "deuruxolitinib.tb"}
    assert all(c.baseline for c in deuru.checks if "deuruxolitinib.cbc" in c.rule_ids)
    deucra = _plan(library, "deucravacitinib", "US", indication="pso")
    kinds = {c.kind for c in deucra.checks if any(r.layer == "label" for r in c.reasons)}
    assert kinds == {"tb", "zoster_vaccination", "lipids"}
    assert "cbc" not in {c.kind for c in deucra.checks}  # no CBC is required
    (pm,) = _plan(
        library, "deuruxolitinib", "US", indication="aa", conditions=("cyp2c9_poor_metaboliser",)
    ).advice
    assert pm.not_recommended and pm.rule_id == "deuruxolitinib.genotype.cyp2c9"

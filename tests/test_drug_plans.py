"""Planned dates against the label, drug by drug (reference: shared/reference/jak-monitoring.md).

Each row says: for a course starting on START in a jurisdiction, there is a planned check of
KIND, asked for by RULE, whose window holds DATE (and, where the label gives a window, exactly
that window). Dates are written out by hand from the label wording, not computed by the code.
"""

from datetime import date

import pytest

from clinics.planning import CourseFacts, plan_course

START = date(2026, 1, 5)  # a Monday; 4w = 2026-02-02, 8w = 2026-03-02, 12w = 2026-03-30

# (drug, jurisdiction, kind, rule, date inside the window, exact window or None)
LABEL_ROWS = [
    # Tofacitinib: lymphocytes baseline then every 3 months; neutrophils and Hb baseline,
    # 4-8 weeks, then every 3 months; lipids 4-8 weeks (US) / 8 weeks (UK/AU); annual skin exam.
    ("tofacitinib", "US", "cbc", "tofacitinib.cbc.alc", START, (date(2025, 12, 8), START)),
    ("tofacitinib", "US", "cbc", "tofacitinib.cbc.anc-hb", START, None),
    ("tofacitinib", "US", "cbc", "tofacitinib.cbc.anc-hb", date(2026, 2, 2), (date(2026, 2, 2), date(2026, 3, 2))),
    ("tofacitinib", "US", "cbc", "tofacitinib.cbc.alc", date(2026, 4, 5), None),
    ("tofacitinib", "US", "cbc", "tofacitinib.cbc.anc-hb", date(2026, 7, 5), None),
    ("tofacitinib", "US", "cbc", "tofacitinib.cbc.alc", date(2026, 10, 5), None),
    ("tofacitinib", "US", "cbc", "tofacitinib.cbc.alc", date(2027, 1, 5), None),
    ("tofacitinib", "US", "lipids", "tofacitinib.lipids.us", date(2026, 2, 2), (date(2026, 2, 2), date(2026, 3, 2))),
    ("tofacitinib", "EU", "lipids", "tofacitinib.lipids.eu", date(2026, 3, 2), None),
    ("tofacitinib", "US", "liver", "tofacitinib.liver", START, None),
    ("tofacitinib", "US", "renal", "tofacitinib.renal.baseline", START, None),
    ("tofacitinib", "US", "tb", "tofacitinib.tb", START, None),
    ("tofacitinib", "US", "hepatitis", "tofacitinib.hepatitis", START, None),
    ("tofacitinib", "US", "zoster_vaccination", "tofacitinib.zoster", START, None),
    ("tofacitinib", "US", "pregnancy", "tofacitinib.pregnancy", START, None),
    ("tofacitinib", "US", "skin_exam", "protocol.default.skin", date(2027, 1, 5), None),
    ("tofacitinib", "US", "skin_exam", "protocol.default.skin", date(2028, 1, 5), None),
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
        c for c in plan.checks
        if c.kind == kind and rule in c.rule_ids and c.window_start <= when <= c.window_end
    ]  # fmt: skip


@pytest.mark.parametrize("drug,jurisdiction,kind,rule,when,window", LABEL_ROWS)
def test_label_check_is_planned(library, drug, jurisdiction, kind, rule, when, window):
    found = _matching(_plan(library, drug, jurisdiction), kind, rule, when)
    assert len(found) == 1, f"expected one {kind} check by {rule} around {when}, got {found}"
    if window is not None:
        assert (found[0].window_start, found[0].window_end) == window


@pytest.mark.parametrize("drug", ["tofacitinib", "baricitinib", "upadacitinib", "abrocitinib", "ritlecitinib"])
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


def test_every_check_says_why_with_source(library):
    for code in library.drugs:
        jurisdiction = library.drugs[code].rules.drug.jurisdictions[0]
        for check in _plan(library, code, jurisdiction).checks:
            assert check.reasons, check
            assert all(r.source and r.rule_id in check.why and r.source in check.why for r in check.reasons)
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
                for a, b in zip(same, same[1:]):
                    assert a.window_end < b.window_start, (code, jurisdiction, a.key, b.key)


def test_blood_tests_with_overlapping_windows_share_a_day(library):
    plan = _plan(library, "tofacitinib", "US")
    twelve_weeks = [c for c in plan.checks if c.window_start <= date(2026, 3, 30) <= c.window_end
                    and c.kind in ("cbc", "liver", "renal")]  # fmt: skip
    assert {c.kind for c in twelve_weeks} == {"cbc", "liver", "renal"}
    assert len({c.due for c in twelve_weeks}) == 1


def test_horizon_is_24_months_by_default(library):
    plan = _plan(library, "tofacitinib", "US")
    assert max(c.due for c in plan.checks) <= date(2028, 1, 5)
    assert max(c.window_end for c in plan.checks) >= date(2027, 12, 1)


def test_plan_is_deterministic(library):
    assert _plan(library, "baricitinib", "EU", age_years=70) == _plan(library, "baricitinib", "EU", age_years=70)

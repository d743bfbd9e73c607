"""The seed files: every shipped file is valid and cited; a bad file is rejected with an error that
names the file, the rule and the field; loading is all-or-nothing, idempotent and versioned."""

import re
from datetime import date
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from clinics.core.planning import CourseFacts, plan_course
from clinics.core.ruleset import RuleFileError, load_library
from clinics.models import Drug, RuleSetVersion
from clinics.services.seeds import rules_load
from tests.support.seed_edits import copy_seeds, edit_yaml, rule_in

REQUIRED_DRUGS = {
    "tofacitinib",
    "baricitinib",
    "upadacitinib",
    "filgotinib",
    "abrocitinib",
    "ritlecitinib",
}


def test_every_required_drug_has_a_valid_file(library):
    assert REQUIRED_DRUGS <= set(library.drugs)
    assert "default" in library.protocols


def test_every_rule_cites_a_source_and_says_whether_verified(library):
    for loaded in library.drugs.values():
        for rule in loaded.rules.all_rules():
            assert len(rule.source) >= 8 and isinstance(rule.verified, bool), rule.id


def test_each_drug_covers_baseline_screening(library):
    for code in REQUIRED_DRUGS:
        rules = library.drugs[code].rules
        baseline = {r.kind for r in rules.monitoring if r.baseline}
        assert {"cbc", "tb", "hepatitis", "zoster_vaccination"} <= baseline, code
        assert rules.infection, code


def test_patient_instructions_never_name_a_medicine(library):
    """Instructions reach calendars, which by default must not tell what a patient takes."""
    names = {"jak"} | {
        word.lower()
        for loaded in library.drugs.values()
        for word in (loaded.rules.drug.code, loaded.rules.drug.name, *loaded.rules.drug.brands)
    }
    rules = [r for d in library.drugs.values() for r in d.rules.monitoring]
    rules += [
        r for p in library.protocols.values() for r in (*p.rules.routine, *p.rules.additional)
    ]
    for rule in rules:
        words = set(re.findall(r"[a-z]+", (rule.instructions or "").lower()))
        assert not words & names, (rule.id, words & names)


BAD_EDITS = [
    # (file, edit, rule named, field named, words in the message)
    (
        "drugs/tofacitinib.yaml",
        lambda d: rule_in(d, "tofacitinib.hepatic.severe.us").pop("child_pugh"),
        "tofacitinib.hepatic.severe.us",
        None,
        "hepatic advice needs child_pugh",
    ),
    (
        "drugs/tofacitinib.yaml",
        lambda d: rule_in(d, "tofacitinib.hepatic.severe.us").update(band={"lt": 30}),
        "tofacitinib.hepatic.severe.us",
        None,
        "hepatic advice does not use band",
    ),
    (
        "drugs/tofacitinib.yaml",
        lambda d: rule_in(d, "tofacitinib.interaction.us").update(doses=["6mg-bid"]),
        "tofacitinib.interaction.us",
        "doses",
        "'6mg-bid' is not in doses",
    ),
    (
        "drugs/tofacitinib.yaml",
        lambda d: rule_in(d, "tofacitinib.interaction.us").update(interacting=["grapefruit"]),
        "tofacitinib.interaction.us",
        "interacting.0",
        "Input should be",
    ),
    (
        "drugs/baricitinib.yaml",
        lambda d: rule_in(d, "baricitinib.tb.positive").update(analyte="anc"),
        "baricitinib.tb.positive",
        None,
        "'anc' is not a screening test",
    ),
    (
        "drugs/baricitinib.yaml",
        lambda d: rule_in(d, "baricitinib.tb.positive").update(action="interrupt"),
        "baricitinib.tb.positive",
        "action",
        "Input should be",
    ),
    (
        "protocols/default.yaml",
        lambda d: d["cockcroft_gault"].update(female_factor="1.2"),
        None,
        "cockcroft_gault.female_factor",
        "less than or equal to 1",
    ),
    (
        "drugs/tofacitinib.yaml",
        lambda d: rule_in(d, "tofacitinib.cbc.alc").update(every="3 months"),
        "tofacitinib.cbc.alc",
        "every",
        "duration",
    ),
    (
        "drugs/tofacitinib.yaml",
        lambda d: rule_in(d, "tofacitinib.tb").pop("source"),
        "tofacitinib.tb",
        "source",
        "Field required",
    ),
    (
        "drugs/tofacitinib.yaml",
        lambda d: rule_in(d, "tofacitinib.hb.no-start").update(analyte="haemoglobin"),
        "tofacitinib.hb.no-start",
        "analyte",
        "Input should be",
    ),
    (
        "drugs/tofacitinib.yaml",
        lambda d: rule_in(d, "tofacitinib.anc.no-start").update(band={}),
        "tofacitinib.anc.no-start",
        None,
        "exactly one of band",
    ),
    (
        "drugs/tofacitinib.yaml",
        lambda d: rule_in(d, "tofacitinib.cbc.anc-hb")["follow_up"][0].update(window=["5w", "8w"]),
        "tofacitinib.cbc.anc-hb",
        "follow_up.0",
        "must contain due",
    ),
    (
        "drugs/tofacitinib.yaml",
        lambda d: rule_in(d, "tofacitinib.lipids.us").update(jurisdictions=["FR"]),
        "tofacitinib.lipids.us",
        "jurisdictions.0",
        "Input should be",
    ),
    (
        "drugs/tofacitinib.yaml",
        lambda d: rule_in(d, "tofacitinib.tb").update(verified="maybe"),
        "tofacitinib.tb",
        "verified",
        "boolean",
    ),
    (
        "drugs/tofacitinib.yaml",
        lambda d: rule_in(d, "tofacitinib.tb").update(colour="blue"),
        "tofacitinib.tb",
        "colour",
        "Extra inputs",
    ),
    (
        "drugs/tofacitinib.yaml",
        lambda d: rule_in(d, "tofacitinib.tb").update(id="baricitinib.tb"),
        "baricitinib.tb",
        "id",
        "must start with 'tofacitinib.'",
    ),
    (
        "drugs/tofacitinib.yaml",
        lambda d: rule_in(d, "tofacitinib.lipids.us").update(indications=["gout"]),
        "tofacitinib.lipids.us",
        "indications",
        "'gout' is not in drug.indications",
    ),
    (
        "drugs/tofacitinib.yaml",
        lambda d: d["drug"].update(code="xeljanz"),
        None,
        "drug.code",
        "file name",
    ),
    (
        "protocols/default.yaml",
        lambda d: d["settings"].update(tolerance_after="two weeks"),
        None,
        "settings.tolerance_after",
        "duration",
    ),
]


@pytest.mark.parametrize("relative,edit,rule,field,words", BAD_EDITS)
def test_bad_file_names_file_rule_and_field(tmp_path, relative, edit, rule, field, words):
    seeds = copy_seeds(tmp_path)
    edit_yaml(seeds / relative, edit)
    with pytest.raises(RuleFileError) as err:
        load_library(seeds)
    assert err.value.path.endswith(relative)
    assert err.value.rule == rule
    assert err.value.field == field
    assert words in str(err.value)
    assert relative.split("/")[-1] in str(err.value)


def test_yaml_syntax_error_names_the_file(tmp_path):
    seeds = copy_seeds(tmp_path)
    (seeds / "drugs" / "baricitinib.yaml").write_text("drug: [unclosed\n")
    with pytest.raises(RuleFileError, match="baricitinib.yaml: not valid YAML"):
        load_library(seeds)


def test_bad_file_loads_nothing(db, tmp_path):
    seeds = copy_seeds(tmp_path)
    edit_yaml(seeds / "drugs/upadacitinib.yaml", lambda d: d["doses"][0].update(daily_mg=-1))
    with pytest.raises(RuleFileError, match="upadacitinib.yaml"):
        rules_load(seed_dir=seeds)
    assert not RuleSetVersion.objects.exists() and not Drug.objects.exists()


def test_load_is_idempotent_and_versions_changes(db, tmp_path):
    seeds = copy_seeds(tmp_path)
    first = rules_load(seed_dir=seeds)
    assert len(first.new_versions) == len(list(seeds.glob("*/*.yaml")))
    again = rules_load(seed_dir=seeds)
    assert again.new_versions == [] and RuleSetVersion.objects.count() == len(first.new_versions)
    original = (seeds / "drugs/tofacitinib.yaml").read_text()
    edit_yaml(
        seeds / "drugs/tofacitinib.yaml",
        lambda d: rule_in(d, "tofacitinib.tb").update(note="re-checked"),
    )
    changed = rules_load(seed_dir=seeds)
    assert changed.new_versions == ["drug tofacitinib v2"]
    (seeds / "drugs/tofacitinib.yaml").write_text(original)
    assert rules_load(seed_dir=seeds).new_versions == ["drug tofacitinib v3"]
    assert Drug.objects.get(code="tofacitinib").current_version.version == 3


def test_threshold_unit_must_be_convertible(tmp_path):
    seeds = copy_seeds(tmp_path)
    edit_yaml(
        seeds / "drugs/tofacitinib.yaml",
        lambda d: rule_in(d, "tofacitinib.hb.no-start").update(unit="g/dl (venous)"),
    )
    with pytest.raises(RuleFileError) as err:
        load_library(seeds)
    assert err.value.rule == "tofacitinib.hb.no-start" and "not accepted for hb" in str(err.value)


@pytest.mark.parametrize(
    "point,words",
    [
        ({"due": "0d"}, "at least 1 day"),
        ({"due": "1m", "window": ["30d", "1m"]}, "must contain due"),
    ],
)
def test_follow_up_windows_hold_for_every_start_date(tmp_path, point, words):
    seeds = copy_seeds(tmp_path)
    edit_yaml(
        seeds / "drugs/tofacitinib.yaml",
        lambda d: rule_in(d, "tofacitinib.cbc.anc-hb").update(follow_up=[point]),
    )
    with pytest.raises(RuleFileError, match=words):
        load_library(seeds)


def test_a_duplicated_key_is_refused_naming_file_key_and_line(db, tmp_path):
    """PyYAML keeps the last of two equal keys: a second `monitoring:` block once cut
    tofacitinib's monitoring rules to one and loaded as a new version."""
    seeds = copy_seeds(tmp_path)
    rules_load(seed_dir=seeds)
    path = seeds / "drugs/tofacitinib.yaml"
    text = path.read_text()
    first = text.splitlines().index("monitoring:") + 1
    path.write_text(text + "monitoring:\n  - id: tofacitinib.extra\n")
    second = len(text.splitlines()) + 1
    with pytest.raises(CommandError) as err:
        call_command("load_drug_rules", "--seeds", str(seeds), stdout=StringIO())
    assert f"tofacitinib.yaml: not valid YAML: duplicate key 'monitoring' on line {second}" in str(
        err.value
    )
    assert f"(first on line {first})" in str(err.value)
    assert RuleSetVersion.objects.filter(code="tofacitinib").count() == 1  # nothing stored


def test_a_duplicated_key_inside_a_rule_is_refused(tmp_path):
    seeds = copy_seeds(tmp_path)
    path = seeds / "drugs/baricitinib.yaml"
    lines = path.read_text().splitlines(keepends=True)
    at = next(i for i, line in enumerate(lines) if line.startswith("  - id: "))
    lines.insert(at + 1, "    id: baricitinib.twice\n")
    path.write_text("".join(lines))
    with pytest.raises(RuleFileError, match=rf"duplicate key 'id' on line {at + 2}"):
        load_library(seeds)


def test_a_protocol_may_not_drop_a_check_the_label_leaves_to_routine_care(tmp_path):
    seeds = copy_seeds(tmp_path)
    edit_yaml(
        seeds / "protocols/default.yaml",
        lambda d: d.update(additional=[r for r in d["additional"] if r["kind"] != "skin_exam"]),
    )
    with pytest.raises(RuleFileError) as err:
        load_library(seeds)
    assert err.value.field == "routine" and "no skin_exam interval" in str(err.value)


def test_the_labels_skin_examinations_are_planned_with_their_population(library):
    expected = {
        ("tofacitinib", "US"): {"tofacitinib.skin"},
        ("baricitinib", "UK"): {"baricitinib.skin", "baricitinib.skin.mhra"},
        ("upadacitinib", "US"): {"upadacitinib.skin"},
        ("filgotinib", "EU"): {"filgotinib.skin"},
        ("abrocitinib", "UK"): {"abrocitinib.skin", "abrocitinib.skin.mhra"},
        ("ritlecitinib", "US"): set(),  # the reference gives it no skin rule of its own
    }
    for (drug, jurisdiction), rules in expected.items():
        plan = plan_course(
            drug=library.drugs[drug].rules,
            protocol=library.protocols["default"].rules,
            facts=CourseFacts(start=date(2026, 1, 5), jurisdiction=jurisdiction),
        )
        skin = [c for c in plan.checks if c.kind == "skin_exam"]
        assert skin, drug  # the protocol's annual exam, for everyone
        for check in skin:
            assert set(check.rule_ids) - {"protocol.default.skin"} == rules, drug
        labels = [r for r in skin[0].reasons if r.layer == "label"]
        assert all(
            "skin" in r.what.lower() and "(label" in r.what or "MHRA" in r.what for r in labels
        )

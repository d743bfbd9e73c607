"""The management commands: plan and threshold previews, rule loading and the demo clinic."""

import json
from datetime import date
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from clinics.core.vocab import CheckOrigin, CheckStatus, CourseStatus
from clinics.models import Clinic, MonitoringCheck, TherapyCourse
from clinics.selectors.worklists import checks_due_now, findings_undecided


def run(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_plan_preview_json_lists_checks_with_rule_and_source():
    data = json.loads(
        run("plan_preview", "--drug", "tofacitinib", "--start", "2026-01-05", "--format", "json")
    )
    lipids = [c for c in data["checks"] if c["kind"] == "lipids" and c["due"] == "2026-02-02"]
    assert lipids and lipids[0]["window_end"] == "2026-03-02"
    assert (
        lipids[0]["rules"][0]["rule"] == "tofacitinib.lipids.us"
        and "Xeljanz" in lipids[0]["rules"][0]["source"]
    )


def test_plan_preview_table_shows_advice():
    out = run(
        "plan_preview",
        "--drug",
        "baricitinib",
        "--start",
        "2026-01-05",
        "--jurisdiction",
        "EU",
        "--age",
        "70",
        "--renal",
        "45",
        "--renal-measure",
        "crcl",
    )
    assert "baricitinib" in out and "Dose advice" in out and "due" in out.splitlines()[0]


@pytest.mark.parametrize(
    "args,option",
    [
        (["--drug", "aspirin", "--start", "2026-01-05"], "--drug"),
        (["--drug", "tofacitinib", "--start", "05/01/2026"], "--start"),
        (
            ["--drug", "filgotinib", "--start", "2026-01-05", "--jurisdiction", "US"],
            "--jurisdiction",
        ),
        (
            ["--drug", "tofacitinib", "--start", "2026-01-05", "--indication", "gout"],
            "--indication",
        ),
        (
            [
                "--drug",
                "tofacitinib",
                "--start",
                "2026-01-05",
                "--renal",
                "abc",
                "--renal-measure",
                "egfr",
            ],
            "--renal",
        ),
        (["--drug", "tofacitinib", "--start", "2026-01-05", "--dose", "1000mg"], "--dose"),
        (["--drug", "tofacitinib", "--start", "2026-01-05", "--weight", "-3"], "--weight"),
        (["--drug", "tofacitinib", "--start", "2026-01-05", "--creatinine", "88"], "--creatinine"),
        (["--drug", "tofacitinib", "--start", "2026-01-05", "--child-pugh", "D"], "--child-pugh"),
        (
            ["--drug", "tofacitinib", "--start", "2026-01-05", "--interacting", "tea"],
            "--interacting",
        ),
        (
            ["--drug", "tofacitinib", "--start", "2026-01-05", "--conditions", "gout"],
            "--conditions",
        ),
    ],
)
def test_plan_preview_bad_input_names_the_option(args, option):
    with pytest.raises(CommandError, match=option):
        run("plan_preview", *args)


def test_evaluate_result_json():
    data = json.loads(
        run(
            "evaluate_result",
            "--drug",
            "tofacitinib",
            "--analyte",
            "hb",
            "--value",
            "10.8",
            "--unit",
            "g/dL",
            "--previous",
            "13.1",
            "--format",
            "json",
        )
    )
    assert data["action"] == "interrupt" and data["findings"][0]["rule"] == "tofacitinib.hb.drop"


def test_evaluate_result_reads_a_screening_result():
    data = json.loads(
        run(
            "evaluate_result",
            "--drug",
            "baricitinib",
            "--jurisdiction",
            "EU",
            "--analyte",
            "anti_hbc",
            "--qualitative",
            "positive",
            "--phase",
            "baseline",
            "--format",
            "json",
        )
    )
    assert data["action"] == "advise" and data["qualitative"] == "positive"
    assert data["findings"][0]["rule"] == "baricitinib.anti-hbc.positive"
    assert "HBV DNA" in data["findings"][0]["text"]


@pytest.mark.parametrize(
    "args,option",
    [
        (["--analyte", "igra", "--qualitative", "perhaps"], "--qualitative"),
        (["--analyte", "igra"], "--qualitative"),
        (
            ["--analyte", "hb", "--value", "9", "--unit", "g/dL", "--qualitative", "positive"],
            "--interpretation",
        ),
        (["--analyte", "hb", "--unit", "g/dL"], "--value"),
        (["--analyte", "hb", "--value", "ten", "--unit", "g/dL"], "--value"),
        (["--analyte", "hb", "--value", "10", "--unit", "mg"], "--unit"),
        (["--analyte", "glucose", "--value", "10", "--unit", "mmol/L"], "--analyte"),
    ],
)
def test_evaluate_result_bad_input_names_the_option(args, option):
    with pytest.raises(CommandError, match=option):
        run("evaluate_result", "--drug", "tofacitinib", *args)


def test_load_drug_rules_is_idempotent(db):
    first = run("load_drug_rules")
    assert "loaded drug tofacitinib v1" in first
    again = run("load_drug_rules")
    assert "loaded" not in again.replace("unchanged", "") and "courses re-planned: 0" in again


def test_load_drug_rules_bad_directory_loads_nothing(db, tmp_path):
    (tmp_path / "drugs").mkdir()
    (tmp_path / "drugs" / "x.yaml").write_text("schema_version: '1'\n")
    (tmp_path / "protocols").mkdir()
    with pytest.raises(CommandError, match="nothing loaded: .*protocols"):
        run("load_drug_rules", "--seeds", str(tmp_path))


def test_demo_setup_creates_clinic_with_plans_and_a_working_login(db, client):
    call_command("load_drug_rules", stdout=StringIO())
    out = run("demo_setup")
    password = out.split("password: ")[1].split()[0]
    clinic = Clinic.objects.get()
    courses = TherapyCourse.objects.filter(patient__clinic=clinic)
    assert courses.count() == 6
    assert all(c.checks.exists() for c in courses)
    assert courses.filter(status=CourseStatus.PAUSED).count() == 1
    assert MonitoringCheck.objects.filter(status=CheckStatus.DONE).exists()
    assert MonitoringCheck.objects.filter(status=CheckStatus.ON_HOLD).exists()
    pending = MonitoringCheck.objects.get(status=CheckStatus.PENDING)
    assert pending.course.patient.mrn == "DEMO-0002" and pending.sampled_on == clinic.today()
    due_now = checks_due_now().filter(course__patient__clinic=clinic)
    assert {"DEMO-0001", "DEMO-0002", "DEMO-0005"} <= {c.course.patient.mrn for c in due_now}
    catch_ups = due_now.filter(origin=CheckOrigin.CATCH_UP, course__patient__mrn="DEMO-0001")
    assert catch_ups.exists() and all("before the course was entered" in c.why for c in catch_ups)
    elsewhere = MonitoringCheck.objects.get(
        course__patient__mrn="DEMO-0001", kind="cbc", status="done"
    )
    assert elsewhere.results_missing == dict.fromkeys(elsewhere.analytes, "done_elsewhere")
    finding = findings_undecided().get()
    assert (finding.course.patient.mrn, finding.action) == ("DEMO-0001", "interrupt")
    assert client.login(username="demo-nurse", password=password)
    page = client.get("/admin/clinics/patient/")
    assert page.status_code == 200 and b"DEMO-0001" in page.content
    again = run("demo_setup")  # idempotent, issues a fresh password
    assert Clinic.objects.count() == 1 and again.split("password: ")[1].split()[0] != password


def test_plan_preview_names_the_renal_measure_the_label_uses():
    args = ["--drug", "tofacitinib", "--start", "2026-01-05", "--jurisdiction", "US"]
    out = run("plan_preview", *args, "--renal", "25", "--renal-measure", "egfr")
    assert "Renal advice not applied: This label's renal advice uses Creatinine clearance" in out
    data = json.loads(
        run("plan_preview", *args, "--renal", "25", "--renal-measure", "egfr", "--format", "json")
    )
    (gap,) = data["renal_gaps"]
    assert gap["measure"] == "crcl" and "tofacitinib.renal.severe.us" in gap["rules"]
    assert not [a for a in data["advice"] if ".renal." in a["rule"]]


def test_migrate_merges_the_two_creatinine_clearance_codes(db, rules_loaded):
    """The labels' CLcr and CrCl are one measure: stored courses, results and checks keep their
    values under the one code (the data step of migration 0016, run on rows in the old codes)."""
    import importlib

    from django.apps import apps

    from clinics.models import LabResult, MonitoringCheck, TherapyCourse
    from tests.support.factories import ClinicFactory, patients_with_a_check_due

    (check,) = patients_with_a_check_due(
        clinic=ClinicFactory(), count=1, due=date(2026, 11, 9), started=date(2026, 10, 12)
    )
    course = check.course
    TherapyCourse.objects.filter(pk=course.pk).update(
        renal_value=45, renal_measure="clcr_cockcroft_gault"
    )
    MonitoringCheck.objects.filter(pk=check.pk).update(
        kind="renal", analytes=["creatinine", "clcr"], results_missing={"clcr": "not_done"}
    )
    result = LabResult.objects.create(
        course=course, analyte="clcr", value=45, unit="mL/min", collected_on=date(2026, 11, 9)
    )
    importlib.import_module("clinics.migrations.0016_one_renal_measure").one_code(apps, None)
    course.refresh_from_db()
    check.refresh_from_db()
    result.refresh_from_db()
    assert course.renal_measure == "crcl" and result.analyte == "crcl"
    assert (check.analytes, check.results_missing) == (["creatinine", "crcl"], {"crcl": "not_done"})


def test_plan_preview_takes_the_dose_advice_facts():
    args = ["--drug", "tofacitinib", "--start", "2026-01-05", "--dose", "5mg-bid", "--age", "60"]
    facts = ["--sex", "male", "--weight", "70", "--creatinine", "141umol/L", "--child-pugh", "C"]
    data = json.loads(
        run(
            "plan_preview",
            *args,
            *facts,
            "--interacting",
            "strong_cyp3a4_inhibitor",
            "--conditions",
            "none",
            "--format",
            "json",
        )
    )
    advice = {a["rule"]: a for a in data["advice"]}
    assert {
        "tofacitinib.renal.moderate.us",  # (140 - 60) x 70 / (72 x 141/88.4) = 48.8 mL/min
        "tofacitinib.hepatic.severe.us",
        "tofacitinib.interaction.us",
    } <= set(advice)
    assert (
        "48.8 mL/min estimated by Cockcroft-Gault"
        in advice["tofacitinib.renal.moderate.us"]["basis"]
    )
    assert data["questions"] == [] and data["renal_gaps"] == []
    asked = json.loads(run("plan_preview", *args, "--format", "json"))
    assert {q["fact"] for q in asked["questions"]} == {"child_pugh", "interacting", "conditions"}
    table = run("plan_preview", *args)
    assert "Ask: Hepatic impairment (Child-Pugh class) not recorded" in table

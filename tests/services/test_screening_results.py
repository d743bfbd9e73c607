"""Screening results through the services: recorded with their reading, evaluated against the
drug's screening rules, and surfaced where staff act (the start preview, the do-not-start
gate, the findings inbox)."""

from datetime import date

import pytest
from django.core.exceptions import ValidationError

from clinics.core.vocab import CheckStatus
from clinics.models import Drug, LabResult
from clinics.selectors.starts import course_start_preview
from clinics.selectors.worklists import findings_undecided
from clinics.services.checks import check_complete
from clinics.services.courses import course_start
from clinics.services.results import ResultInput, lab_result_record
from tests.support.clock import at


def _start_upadacitinib(patient, **kw):
    return course_start(
        patient=patient,
        drug=Drug.objects.get(code="upadacitinib"),
        dose_code="15mg-qd",
        indication="ra",
        start_date=date(2026, 3, 20),
        **kw,
    )


@pytest.fixture
def planned(patient):
    with at(2026, 3, 2, 15):
        return _start_upadacitinib(patient).course


def test_a_positive_tb_screen_blocks_the_start_and_waits_in_the_inbox(planned, patient):
    tb = planned.checks.get(plan_key="tb/baseline")
    with at(2026, 3, 3, 15):
        done = check_complete(
            check=tb,
            completed_on=date(2026, 3, 3),
            results=[ResultInput("igra", "0.52", "IU/mL", "positive")],
        )
    assert done.action == "do_not_start"
    stored = LabResult.objects.get(analyte="igra")
    assert (stored.interpretation, stored.value_text, stored.reading) == (
        "positive",
        "0.52",
        "positive, 0.52 IU/mL",
    )
    assert stored.outcome[0]["rule_id"] == "upadacitinib.tb.positive"
    assert list(findings_undecided().filter(course=planned).values_list("action", flat=True)) == [
        "do_not_start"
    ]
    # A second course for the same patient (after stopping this one) meets the same gate.
    with at(2026, 3, 4, 15):
        preview = course_start_preview(
            patient=patient,
            drug=Drug.objects.get(code="upadacitinib"),
            dose_code="15mg-qd",
            indication="ra",
            start_date=date(2026, 3, 20),
        )
    assert preview.blocking
    assert [f.result.reading for f in preview.findings] == ["positive, 0.52 IU/mL"]
    assert "upadacitinib.tb.positive" in {r.id for r in preview.do_not_start_rules}


def test_the_start_is_refused_until_the_prescriber_acknowledges(planned, patient):
    with at(2026, 3, 3, 15):
        lab_result_record(
            course=planned,
            analyte="hbsag",
            value=None,
            unit="",
            interpretation="positive",
            collected_on=date(2026, 3, 3),
        )
        planned.status = "stopped"
        planned.stopped_on = date(2026, 3, 3)
        planned.save()
        with pytest.raises(ValidationError) as err:
            _start_upadacitinib(patient)
        assert (
            "hbsag positive on 2026-03-03" in err.value.message_dict["acknowledge_do_not_start"][0]
        )
        assert _start_upadacitinib(patient, acknowledge_do_not_start=True).course.pk


def test_an_indeterminate_igra_is_shown_as_uncovered(planned):
    with at(2026, 3, 3, 15):
        recorded = lab_result_record(
            course=planned,
            analyte="igra",
            value="",
            unit="",
            interpretation="Indeterminate",
            collected_on=date(2026, 3, 3),
        )
    assert recorded.result.interpretation == "indeterminate"
    assert recorded.outcome.action == "advise"
    assert recorded.outcome.findings[0].rule_id == "upadacitinib.screening.uncovered"
    assert findings_undecided().filter(course=planned).count() == 1


def test_negative_screens_open_nothing(planned):
    check = planned.checks.get(plan_key="hepatitis/baseline")
    with at(2026, 3, 3, 15):
        done = check_complete(
            check=check,
            completed_on=date(2026, 3, 3),
            results=[ResultInput(a, "", "", "negative") for a in check.analytes],
        )
    check.refresh_from_db()
    assert done.action == "none" and check.status == CheckStatus.DONE
    assert not findings_undecided().filter(course=planned).exists()


@pytest.mark.parametrize(
    "item,field",
    [
        (ResultInput("igra", "0.1", "IU/mL"), "results[0].interpretation"),
        (ResultInput("igra", "", "", "sort of"), "results[0].interpretation"),
        (ResultInput("igra", "", "IU/mL", "negative"), "results[0].value"),
        (ResultInput("igra", "lots", "IU/mL", "positive"), "results[0].value"),
        (ResultInput("anc", "2.0", "10^9/L", "negative"), "results[0].interpretation"),
        (ResultInput("anc", "", "10^9/L"), "results[0].value"),
    ],
)
def test_bad_readings_name_the_field_and_store_nothing(planned, item, field):
    check = planned.checks.get(plan_key="tb/baseline")
    with at(2026, 3, 3, 15), pytest.raises(ValidationError) as err:
        check_complete(
            check=check,
            completed_on=date(2026, 3, 3),
            results=[item],
            missing={} if item.analyte == "igra" else {"igra": "not_done"},
        )
    assert field in err.value.message_dict
    check.refresh_from_db()
    assert check.status == CheckStatus.SCHEDULED and not LabResult.objects.exists()

"""The drugs and doses a clinic may start: the admin's start form and the API offer these."""

from clinics.core.vocab import Jurisdiction
from clinics.models import Drug
from clinics.rulebook import drug_rules
from clinics.selectors.starts import drugs_startable, labelled_doses


def test_each_startable_drug_is_labelled_in_the_clinics_jurisdiction(clinic):
    startable = drugs_startable(clinic=clinic)
    assert [s.drug.name for s in startable] == sorted(s.drug.name for s in startable)
    expected = {d.code for d in Drug.objects.all() if clinic.jurisdiction in d.jurisdictions}
    assert {s.drug.code for s in startable} == expected
    for s in startable:
        assert s.doses, s.drug.code
        assert all(
            d.jurisdictions is None or clinic.jurisdiction in d.jurisdictions for d in s.doses
        )


def test_doses_for_an_indication_are_the_labelled_ones(rules_loaded):
    rules = drug_rules(drug=Drug.objects.get(code="upadacitinib"))
    for indication in rules.drug.indications:
        doses = labelled_doses(
            rules=rules, jurisdiction=Jurisdiction.US, indication=indication.code
        )
        assert doses == tuple(
            d for d in rules.doses if d.applies(jurisdiction="US", indication=indication.code)
        )
    everywhere = labelled_doses(rules=rules, jurisdiction=Jurisdiction.US)
    assert {d.code for d in everywhere} >= {
        d.code
        for i in rules.drug.indications
        for d in labelled_doses(rules=rules, jurisdiction="US", indication=i.code)
    }

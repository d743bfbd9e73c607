"""Display names for codes the pure planner and rule files use (check kinds, analytes), and
what a course's rules offer staff."""

from django import template

from ..core.units import ANALYTE_NAMES
from ..core.vocab import CheckKind
from ..models import TherapyCourse
from ..rulebook import drug_rules

register = template.Library()


@register.filter
def kind_name(code: str) -> str:
    return CheckKind(code).label


@register.filter
def analyte_name(code: str) -> str:
    return ANALYTE_NAMES.get(code, code)


@register.filter
def in_titration(course: TherapyCourse) -> bool:
    """The course's drug has checks that last until the dose is stable, not yet marked so."""
    if course.dose_stable_on is not None:
        return False
    return any(r.until_dose_stable for r in drug_rules(drug=course.drug).monitoring)

"""Display names for codes the pure planner and rule files use (check kinds, analytes)."""

from django import template

from ..core.units import ANALYTE_NAMES
from ..core.vocab import CheckKind

register = template.Library()


@register.filter
def kind_name(code: str) -> str:
    return CheckKind(code).label


@register.filter
def analyte_name(code: str) -> str:
    return ANALYTE_NAMES.get(code, code)

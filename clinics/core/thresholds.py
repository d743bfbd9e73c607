"""Evaluating a lab result against a drug's thresholds: pure Python, no Django.

The outcome is advice for clinicians, with the rule's own text and source: the service alerts,
clinicians decide. Units are converted to the unit the rule was written in (labels use
cells/mm³ in the US and 10⁹/L in the EU, which differ by a factor of 1000). Screening tests are
read by their interpretation (positive, negative, ...) against the drug's screening rules; a
reading other than negative that no rule covers is an `advise` finding saying so.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from .ruleset import DrugRules, ProtocolRules, Threshold
from .units import ANALYTE_NAMES, ANALYTES, QUALITATIVE, UnitError, check_unit, convert
from .vocab import Interpretation, OutcomeAction, Phase, RuleAction

# Which rule actions speak in each phase: before the first dose only do-not-start rules, during
# treatment interrupt and discontinue rules, while paused also the resume rules.
_SPEAKS_IN: dict[Phase, frozenset[RuleAction]] = {
    Phase.BASELINE: frozenset({RuleAction.DO_NOT_START, RuleAction.ADVISE}),
    Phase.TREATMENT: frozenset({RuleAction.INTERRUPT, RuleAction.DISCONTINUE, RuleAction.ADVISE}),
    Phase.PAUSED: frozenset(
        {RuleAction.INTERRUPT, RuleAction.DISCONTINUE, RuleAction.ADVISE, RuleAction.RESUME}
    ),
}


@dataclass(frozen=True)
class Finding:
    rule_id: str
    action: RuleAction
    text: str
    source: str
    verified: bool
    confirm: bool


@dataclass(frozen=True)
class Outcome:
    action: OutcomeAction
    findings: tuple[Finding, ...]

    @property
    def alerts_staff(self) -> bool:
        return self.action.alerts_staff

    @property
    def summary(self) -> str:
        if not self.findings:
            return "No threshold reached."
        return "; ".join(f.text for f in self.findings)


def evaluate(
    *,
    drug: DrugRules,
    protocol: ProtocolRules | None,
    analyte: str,
    value: Decimal | None,
    unit: str,
    jurisdiction: str,
    indication: str | None = None,
    phase: str = Phase.TREATMENT,
    previous: Decimal | None = None,
    interpretation: str | None = None,
) -> Outcome:
    """The most severe action the drug's (and the protocol's) thresholds give for one result.

    `phase` decides which rules speak: before the first dose only do-not-start rules, during
    treatment interrupt and discontinue rules, while paused also the resume rules (which only
    advise: clinicians decide when to restart). `previous` is the last earlier value of the same
    analyte (same unit) for rules that compare, such as tofacitinib's "Hb drop > 2 g/dL".
    A screening test (`units.QUALITATIVE`) is read by `interpretation`; its value is not used.
    """
    if phase not in Phase.values():
        raise UnitError("phase", f"phase must be one of {', '.join(Phase.values())}")
    if analyte not in ANALYTES:
        raise UnitError(
            "analyte", f"unknown analyte {analyte!r}; use one of: {', '.join(ANALYTES)}"
        )
    if analyte in QUALITATIVE:
        return _screening(
            drug=drug,
            analyte=analyte,
            interpretation=interpretation,
            jurisdiction=jurisdiction,
            indication=indication,
            phase=Phase(phase),
        )
    if interpretation:
        raise UnitError("interpretation", f"{analyte} is read by its value, not positive/negative")
    if value is None:
        raise UnitError("value", f"a {analyte} result needs a value")
    check_unit(analyte=analyte, unit=unit)
    rules: Iterable[Threshold] = [*drug.thresholds, *(protocol.thresholds if protocol else ())]
    findings: list[Finding] = []
    for rule in rules:
        if rule.analyte != analyte:
            continue
        if not rule.applies(jurisdiction=jurisdiction, indication=indication):
            continue
        if rule.action not in _SPEAKS_IN[Phase(phase)] or (
            rule.phases is not None and phase not in rule.phases
        ):
            continue
        if _matches(rule, analyte=analyte, value=value, unit=unit, previous=previous):
            findings.append(
                Finding(rule.id, rule.action, rule.text, rule.source, rule.verified, rule.confirm)
            )
    return _sorted(findings)


def _sorted(findings: list[Finding]) -> Outcome:
    findings.sort(key=lambda f: (-OutcomeAction.of_rule(f.action).severity, f.rule_id))
    return Outcome(most_severe(OutcomeAction.of_rule(f.action) for f in findings), tuple(findings))


def _screening(
    *,
    drug: DrugRules,
    analyte: str,
    interpretation: str | None,
    jurisdiction: str,
    indication: str | None,
    phase: Phase,
) -> Outcome:
    name = ANALYTE_NAMES[analyte]
    if not interpretation:  # stored before readings were recorded: the rules cannot be applied
        return _sorted(
            [_uncovered(drug, f"{name}: no reading (positive, negative, ...) was recorded")]
        )
    if interpretation not in Interpretation.values():
        raise UnitError(
            "interpretation",
            f"a {analyte} result needs its interpretation: {', '.join(Interpretation.values())}",
        )
    reading = Interpretation(interpretation)
    findings = [
        Finding(rule.id, rule.action, rule.text, rule.source, rule.verified, False)
        for rule in drug.screening
        if rule.analyte == analyte
        and interpretation in rule.results
        and phase in rule.phases
        and rule.applies(jurisdiction=jurisdiction, indication=indication)
    ]
    if not findings and reading != Interpretation.NEGATIVE:
        findings.append(_uncovered(drug, f"{name} {reading.label.lower()} ({phase.label.lower()})"))
    return _sorted(findings)


def _uncovered(drug: DrugRules, what: str) -> Finding:
    """Where the drug's rules cannot speak for a screening result: say so, and leave it to a
    clinician."""
    code = drug.drug.code
    return Finding(
        rule_id=f"{code}.screening.uncovered",
        action=RuleAction.ADVISE,
        text=(
            f"{what}: the {drug.drug.name} rules give no advice for this result. "
            "A clinician decides what it means for the course."
        ),
        source=f"No rule in seeds/drugs/{code}.yaml covers this reading",
        verified=False,
        confirm=False,
    )


def most_severe(actions: Iterable[OutcomeAction]) -> OutcomeAction:
    return max(actions, key=lambda a: a.severity, default=OutcomeAction.NONE)


def _matches(
    rule: Threshold, *, analyte: str, value: Decimal, unit: str, previous: Decimal | None
) -> bool:
    in_rule_unit = convert(analyte=analyte, value=value, unit=unit, to_unit=rule.unit)
    if rule.band is not None:
        return rule.band.contains(in_rule_unit)
    if previous is None or rule.drop_gt is None:
        return False
    before = convert(analyte=analyte, value=previous, unit=unit, to_unit=rule.unit)
    return before - in_rule_unit > rule.drop_gt

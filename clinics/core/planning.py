"""The schedule planner: pure Python, no database, no Django, deterministic.

From a drug's rule file, the clinic protocol and a course's facts it returns every planned check
over a rolling horizon, each with its window and why it is there (`core.reconcile` then compares
that plan with the checks a course already has). Dates are counted in time on the drug: a pause pushes every later check back
by its length, which is what "re-plan from the resume date" means for a course.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import Decimal

from .dates import Duration
from .ruleset import CockcroftGault, DoseAdvice, DrugRules, MonitoringRule, Point, ProtocolRules
from .vocab import (
    BLOOD_DRAW_KINDS,
    ChildPugh,
    Codes,
    CourseCondition,
    Interacting,
    RenalMeasure,
)

DEFAULT_HORIZON = Duration(24, "m")
_ROUTINE_ANCHOR = "the label leaves the interval to routine care: the clinic protocol's"


@dataclass(frozen=True)
class Pause:
    """Off the drug from `start` (inclusive) until `end`, the day it is resumed (None: still off)."""

    start: date
    end: date | None = None


@dataclass(frozen=True)
class CourseFacts:
    start: date
    jurisdiction: str
    indication: str | None = None
    age_years: int | None = None
    sex_at_birth: str | None = None  # "female", "male" or None when unknown
    renal_value: Decimal | None = None
    renal_measure: str | None = None
    pauses: tuple[Pause, ...] = ()
    dose_increases: tuple[date, ...] = ()
    dose_code: str | None = None
    dose_stable_on: date | None = None  # a clinician marked the dose stable (ends titration)
    child_pugh: str | None = None  # "A", "B", "C"; None: not assessed
    interacting: tuple[str, ...] | None = None  # Interacting codes; None: not reviewed
    conditions: tuple[str, ...] | None = None  # CourseCondition codes; None: not reviewed
    reproductive_potential: bool | None = None  # as staff recorded it; None: the default
    weight_kg: Decimal | None = None
    creatinine: Decimal | None = None
    creatinine_unit: str | None = None  # "umol/L" or "mg/dL"


@dataclass(frozen=True)
class Reason:
    """One rule that asks for a check: printed as the check's "why"."""

    rule_id: str
    what: str
    source: str
    verified: bool
    layer: str  # "label" or "protocol"
    anchor: str  # e.g. "course start 2026-01-05 + 4w"

    def describe(self) -> str:
        flag = "" if self.verified else " [unverified]"
        return f"{self.what}: {self.anchor} — rule {self.rule_id}{flag} ({self.source})"


@dataclass(frozen=True)
class PlannedCheck:
    key: str
    kind: str
    due: date
    window_start: date
    window_end: date
    analytes: tuple[str, ...]
    instructions: str
    reasons: tuple[Reason, ...]
    baseline: bool = False

    @property
    def rule_ids(self) -> tuple[str, ...]:
        return tuple(r.rule_id for r in self.reasons)

    @property
    def content(self) -> tuple[object, ...]:
        """Everything a stored check copies from its plan: a change to any of it is an update
        (new dates, or a rule whose text, source, analytes or verified flag changed)."""
        return (
            self.kind,
            self.due,
            self.window_start,
            self.window_end,
            self.rule_ids,
            self.why,
            self.verified,
            self.analytes,
            self.instructions,
        )

    @property
    def why(self) -> str:
        return "\n".join(r.describe() for r in self.reasons)

    @property
    def verified(self) -> bool:
        return all(r.verified for r in self.reasons)


@dataclass(frozen=True)
class Advice:
    rule_id: str
    text: str
    source: str
    verified: bool
    not_recommended: bool = False
    basis: str = ""  # how a value the rule needs was obtained (a Cockcroft-Gault estimate)


@dataclass(frozen=True)
class RenalGap:
    """Renal advice that applies to the course but cannot be applied: its measure was not
    entered (or another one was). Staff are told what to enter rather than left with silence."""

    measure: str  # the measure the rules use
    given: str | None  # the measure entered, None if none was
    rule_ids: tuple[str, ...]
    missing_for_estimate: tuple[str, ...] = ()  # what a Cockcroft-Gault estimate still needs

    @property
    def text(self) -> str:
        text = f"This label's renal advice uses {RenalMeasure(self.measure).label}: enter it."
        if self.given:
            text += f" The {RenalMeasure(self.given).label} entered cannot be used in its place."
        if self.missing_for_estimate:
            text += (
                " It can also be estimated by Cockcroft-Gault once these are recorded: "
                f"{', '.join(self.missing_for_estimate)}."
            )
        return f"{text} (rules {', '.join(self.rule_ids)})"


@dataclass(frozen=True)
class FactQuestion:
    """A course fact the label's dose advice uses that was not recorded (Child-Pugh class,
    interacting medicines, conditions such as ESRD or a genotype): the preview asks for it."""

    fact: str  # "child_pugh", "interacting" or "conditions"
    options: tuple[str, ...]  # the codes the drug's rules name
    rule_ids: tuple[str, ...]

    @property
    def text(self) -> str:
        labels = ", ".join(_FACT_OPTIONS[self.fact](code).label for code in self.options)
        return (
            f"{_FACT_NAMES[self.fact]} not recorded: this label gives dose advice for {labels} "
            f"(rules {', '.join(self.rule_ids)})."
        )


_FACT_NAMES = {
    "child_pugh": "Hepatic impairment (Child-Pugh class)",
    "interacting": "Interacting medicines",
    "conditions": "Renal and genotype conditions",
}
_FACT_OPTIONS: dict[str, type[Codes]] = {
    "child_pugh": ChildPugh,
    "interacting": Interacting,
    "conditions": CourseCondition,
}
_FACTOR_FACT = {"hepatic": "child_pugh", "interaction": "interacting", "condition": "conditions"}


@dataclass(frozen=True)
class Plan:
    checks: tuple[PlannedCheck, ...]
    advice: tuple[Advice, ...] = ()
    renal_gaps: tuple[RenalGap, ...] = ()
    questions: tuple[FactQuestion, ...] = ()


@dataclass
class _Candidate:
    """A check before merging, in days on the drug counted from the course start."""

    key: str
    kind: str
    due: int
    lo: int
    hi: int
    priority: int  # 0 baseline, 1 label, 2 protocol: lower wins the key when merging
    analytes: tuple[str, ...]
    instructions: str
    reasons: list[Reason] = field(default_factory=list)
    baseline: bool = False


def plan_course(
    *,
    drug: DrugRules,
    protocol: ProtocolRules,
    facts: CourseFacts,
    as_of: date | None = None,
    horizon: Duration = DEFAULT_HORIZON,
) -> Plan:
    """Plan every check for a course up to `horizon` after `as_of` (default: the start date)."""
    horizon_end = horizon.after(max(facts.start, as_of or facts.start))
    candidates: list[_Candidate] = []
    label_routine: dict[str, list[MonitoringRule]] = {}
    for rule in drug.monitoring:
        if not _rule_applies(rule, facts, protocol):
            continue
        candidates.extend(
            _rule_candidates(rule, facts, protocol, layer="label", horizon_end=horizon_end)
        )
        if rule.routine:
            label_routine.setdefault(rule.kind, []).append(rule)
    for kind in sorted(label_routine):
        routine = protocol.routine_for(kind)
        if routine is not None and _rule_applies(routine, facts, protocol):
            candidates.extend(
                _rule_candidates(
                    routine, facts, protocol, layer="protocol", horizon_end=horizon_end
                )
            )
    for rule in protocol.additional:
        if _rule_applies(rule, facts, protocol):
            candidates.extend(
                _rule_candidates(rule, facts, protocol, layer="protocol", horizon_end=horizon_end)
            )
    # A label's "routine patient management" or "periodic" check is met by the protocol's
    # checks of its kind: each of them also names the label rule it satisfies.
    for cand in candidates:
        for rule in label_routine.get(cand.kind, ()) if cand.priority == 2 else ():
            cand.reasons.append(
                Reason(rule.id, rule.what, rule.source, rule.verified, "label", _ROUTINE_ANCHOR)
            )
    merged = _align_blood_draws(_merge(candidates))
    checks = tuple(
        sorted(
            (_to_calendar(c, facts) for c in merged),
            key=lambda c: (c.due, c.kind, c.key),
        )
    )
    estimate = protocol.cockcroft_gault
    return Plan(
        checks=tuple(c for c in checks if c.window_start <= horizon_end),
        advice=dose_advice(drug=drug, facts=facts, estimate=estimate),
        renal_gaps=renal_gaps(drug=drug, facts=facts, estimate=estimate),
        questions=fact_questions(drug=drug, facts=facts),
    )


def _rule_applies(rule: MonitoringRule, facts: CourseFacts, protocol: ProtocolRules) -> bool:
    if not rule.applies(jurisdiction=facts.jurisdiction, indication=facts.indication):
        return False
    cond = rule.applies_if
    if cond is None:
        return True
    # Unknown sex or age keeps the check: staff can mark it not needed, a missing check is worse.
    if cond.sex_at_birth and facts.sex_at_birth not in (None, cond.sex_at_birth):
        return False
    if cond.age and facts.age_years is not None and not cond.age.contains(facts.age_years):
        return False
    if cond.reproductive_potential and reproductive_potential(facts, protocol) is False:
        return False
    return True


def reproductive_potential(facts: CourseFacts, protocol: ProtocolRules) -> bool | None:
    """What staff recorded, else the protocol's default: recorded female at birth and of an age
    in its range; male at birth is not. None (unknown) keeps a pregnancy test planned."""
    if facts.reproductive_potential is not None:
        return facts.reproductive_potential
    if facts.sex_at_birth == "male":
        return False
    default = protocol.reproductive_potential
    if facts.sex_at_birth == "female" and default is not None and facts.age_years is not None:
        return default.age.contains(facts.age_years)
    return None


@dataclass(frozen=True)
class Contraception:
    rule_id: str
    text: str
    source: str
    verified: bool
    until: date  # the last dose plus the label's period


def contraception_after(
    *, drug: DrugRules, protocol: ProtocolRules, facts: CourseFacts, last_dose: date
) -> Contraception | None:
    """The label's contraception period after the last dose, for a patient who could become
    pregnant (or whose potential is unknown); None where the label gives none."""
    if reproductive_potential(facts, protocol) is False:
        return None
    for rule in drug.contraception:
        if rule.applies(jurisdiction=facts.jurisdiction, indication=facts.indication):
            until = rule.after_last_dose.after(last_dose)
            return Contraception(rule.id, rule.text, rule.source, rule.verified, until)
    return None


def _rule_candidates(
    rule: MonitoringRule,
    facts: CourseFacts,
    protocol: ProtocolRules,
    *,
    layer: str,
    horizon_end: date,
) -> Iterable[_Candidate]:
    start = facts.start
    settings = protocol.settings
    priority = 1 if layer == "label" else 2
    analytes, instructions = tuple(rule.analytes), rule.instructions or ""

    def reason(anchor: str) -> Reason:
        return Reason(rule.id, rule.what, rule.source, rule.verified, layer, anchor)

    if rule.baseline:
        lookback = (start - settings.baseline_lookback.before(start)).days
        yield _Candidate(
            key=f"{rule.kind}/baseline",
            due=0,
            lo=-lookback,
            hi=0,
            priority=0,
            reasons=[reason(f"before the first dose (course start {start.isoformat()})")],
            baseline=True,
            kind=rule.kind,
            analytes=analytes,
            instructions=instructions,
        )

    def point(
        p: Point, anchor: date, anchor_name: str, key_prefix: str, base: int, label: str = ""
    ) -> _Candidate:
        return at(p.due, p.window, anchor, anchor_name, key_prefix, base, label)

    def at(
        due_after: Duration,
        window: tuple[Duration, Duration] | None,
        anchor: date,
        anchor_name: str,
        key_prefix: str,
        base: int,
        label: str = "",
    ) -> _Candidate:
        label = label or str(due_after)
        due = due_after.days_after(anchor)
        if window is not None:
            lo, hi = (w.days_after(anchor) for w in window)
        else:
            lo = due - (anchor - settings.tolerance_before.before(anchor)).days
            hi = due + settings.tolerance_after.days_after(anchor)
        lo = max(lo, 1)  # a follow-up window never opens before its anchor day
        window_text = f" (window {window[0]}-{window[1]})" if window else ""
        return _Candidate(
            key=f"{rule.kind}/{key_prefix}+{label}",
            due=base + due,
            lo=base + lo,
            hi=base + hi,
            priority=priority,
            reasons=[reason(f"{anchor_name} {anchor.isoformat()} + {label}{window_text}")],
            kind=rule.kind,
            analytes=analytes,
            instructions=instructions,
        )

    for p in rule.follow_up:
        yield point(p, start, "course start", "start", 0)
    if rule.every is not None:
        first = rule.every_from or rule.every
        limit = horizon_end + timedelta(days=_total_paused_days(facts))
        n = 0
        while True:
            step = rule.every.times(n)
            offset = first.plus(step) if n else first
            if offset is not None:
                label, when = str(offset), offset.after(start)
            else:  # e.g. 12w then every 3m: count calendar months from the first occurrence
                label, when = f"{first}+{step}", step.after(first.after(start))
            if when > limit:
                break
            due = Duration((when - start).days, "d")
            yield at(due, None, start, f"every {rule.every}: course start", "start", 0, label)
            n += 1
    if rule.until_dose_stable is not None:
        yield from _until_stable(rule.until_dose_stable, facts, horizon_end, point)
    for increased_on in facts.dose_increases:
        base = _on_drug_days(increased_on, facts)
        for p in rule.after_dose_increase:
            yield point(p, increased_on, "dose increase", f"dose-{increased_on.isoformat()}", base)


def _until_stable(
    p: Point, facts: CourseFacts, horizon_end: date, point: Callable[..., _Candidate]
) -> Iterable[_Candidate]:
    """One occurrence `p.due` after the previous one (the first after the start), each within
    `p.window` of the previous, until the day the dose was marked stable."""
    start = facts.start
    stable = None if facts.dose_stable_on is None else _on_drug_days(facts.dose_stable_on, facts)
    limit = horizon_end + timedelta(days=_total_paused_days(facts))
    n = 0
    while True:
        anchor = p.due.times(n).after(start)
        if anchor > limit:
            return
        base = (anchor - start).days
        cand = point(
            p,
            anchor,
            "until the dose is stable: previous test due"
            if n
            else "until the dose is stable: start",
            f"stable-{n + 1}",
            base,
        )
        if stable is not None and cand.lo >= stable:
            return
        yield cand
        n += 1


def _merge(candidates: list[_Candidate]) -> list[_Candidate]:
    """Fold candidates of one kind whose windows overlap into one check, keeping every reason.

    Candidates with the same key (one occurrence asked for by several rules) are folded first,
    so every key ends up on exactly one check; the folded check takes the key of its most
    authoritative member (course-start anchors before dose-increase anchors, so recording a
    dose change does not rename existing checks; then baseline, label, protocol).
    """
    merged: list[_Candidate] = []
    by_key: dict[str, _Candidate] = {}
    for cand in candidates:
        same = by_key.get(cand.key)
        by_key[cand.key] = cand if same is None else _fold(same, cand, same.key)
    ordered = sorted(by_key.values(), key=lambda c: (c.kind, c.lo, c.hi, c.priority, c.key))
    for cand in ordered:
        last = merged[-1] if merged else None
        if (
            last is not None
            and last.kind == cand.kind
            and last.baseline == cand.baseline
            and cand.lo <= last.hi
            and cand.hi >= last.lo
        ):
            winner = min(last, cand, key=_authority)
            merged[-1] = _fold(last, cand, winner.key, winner.priority)
        else:
            merged.append(replace(cand, reasons=list(cand.reasons)))
    return merged


def _authority(c: _Candidate) -> tuple[bool, int, str]:
    return ("/dose-" in c.key, c.priority, c.key)


def _fold(a: _Candidate, b: _Candidate, key: str, priority: int | None = None) -> _Candidate:
    """One check for two candidates: the narrower window both allow, every reason kept."""
    lo, hi = max(a.lo, b.lo), min(a.hi, b.hi)
    if lo > hi:  # same occurrence, windows that do not meet (protocol tolerance vs label window)
        lo, hi = min(a.lo, b.lo), max(a.hi, b.hi)
    return replace(
        a,
        key=key,
        priority=min(a.priority, b.priority) if priority is None else priority,
        lo=lo,
        hi=hi,
        due=min(max(min(a.due, b.due), lo), hi),
        analytes=tuple(sorted(set(a.analytes) | set(b.analytes))),
        instructions=a.instructions or b.instructions,
        reasons=[*a.reasons, *(r for r in b.reasons if r not in a.reasons)],
    )


def _align_blood_draws(checks: list[_Candidate]) -> list[_Candidate]:
    """Give blood tests with overlapping windows one due date (inside every window), so the
    patient has one blood draw instead of several a few days apart."""
    draws = sorted(
        (c for c in checks if c.kind in BLOOD_DRAW_KINDS and not c.baseline),
        key=lambda c: (c.lo, c.hi, c.kind, c.key),
    )
    groups: list[tuple[int, int, list[_Candidate]]] = []
    for cand in draws:
        if groups:
            lo, hi, members = groups[-1]
            if max(lo, cand.lo) <= min(hi, cand.hi):
                groups[-1] = (max(lo, cand.lo), min(hi, cand.hi), [*members, cand])
                continue
        groups.append((cand.lo, cand.hi, [cand]))
    for lo, hi, members in groups:
        due = min(max(min(c.due for c in members), lo), hi)
        for cand in members:
            cand.due = due
    return checks


def _pauses(facts: CourseFacts) -> list[tuple[date, date | None]]:
    """Pauses in order, clipped to the course start: time off the drug before the first dose
    does not delay any check. Raises ValueError if pauses overlap (a course is off the drug
    once at a time)."""
    clipped: list[tuple[date, date | None]] = []
    for pause in sorted(facts.pauses, key=lambda p: p.start):
        begin = max(pause.start, facts.start)
        if pause.end is not None and pause.end <= begin:
            continue
        if clipped and (clipped[-1][1] is None or clipped[-1][1] > begin):
            raise ValueError(f"pauses overlap: {clipped[-1]} and {pause}")
        clipped.append((begin, pause.end))
    return clipped


def _total_paused_days(facts: CourseFacts) -> int:
    return sum(((end - begin).days for begin, end in _pauses(facts) if end is not None), 0)


def _calendar(day: int, facts: CourseFacts) -> date:
    """The calendar date on which the course reaches `day` days on the drug (closed pauses
    push it back; an open pause does not, as its checks are on hold until the resume)."""
    when = facts.start + timedelta(days=day)
    if day <= 0:
        return when
    for begin, end in _pauses(facts):
        if end is not None and when >= begin:
            when += end - begin
    return when


def _on_drug_days(when: date, facts: CourseFacts) -> int:
    """Days on the drug from the start to `when` (an event such as a dose increase)."""
    days = (when - facts.start).days
    for begin, end in _pauses(facts):
        if begin <= when:
            days -= (min(when, end or when) - begin).days
    return days


def _to_calendar(c: _Candidate, facts: CourseFacts) -> PlannedCheck:
    # A label rule that asks for the check itself needs no second "routine" mention.
    concrete = {r.rule_id for r in c.reasons if r.anchor != _ROUTINE_ANCHOR}
    reasons = tuple(
        r for r in c.reasons if r.anchor != _ROUTINE_ANCHOR or r.rule_id not in concrete
    )
    return PlannedCheck(
        key=c.key,
        kind=c.kind,
        due=_calendar(c.due, facts),
        window_start=_calendar(c.lo, facts),
        window_end=_calendar(c.hi, facts),
        analytes=c.analytes,
        instructions=c.instructions,
        reasons=reasons,
        baseline=c.baseline,
    )


def _advice_rules(drug: DrugRules, facts: CourseFacts) -> list[DoseAdvice]:
    return [
        rule
        for rule in drug.dose_advice
        if rule.applies(jurisdiction=facts.jurisdiction, indication=facts.indication)
        and rule.for_dose(facts.dose_code)
    ]


def dose_advice(
    *, drug: DrugRules, facts: CourseFacts, estimate: CockcroftGault | None = None
) -> tuple[Advice, ...]:
    """Renal, age, hepatic, interaction and condition dose advice that applies to these facts
    (advice only: clinicians decide). Creatinine clearance a rule needs but that was not
    entered is estimated by Cockcroft-Gault when `estimate` and the patient's facts allow."""
    renal = _renal_values(facts, estimate)
    found: list[Advice] = []
    for rule in _advice_rules(drug, facts):
        advice = _advice_for(rule, facts, renal)
        if advice is not None:
            found.append(advice)
    return tuple(found)


def _renal_values(
    facts: CourseFacts, estimate: CockcroftGault | None
) -> dict[str, tuple[Decimal, str]]:
    """Each renal measure known for the course, with how it was obtained."""
    known: dict[str, tuple[Decimal, str]] = {}
    if facts.renal_value is not None and facts.renal_measure:
        known[facts.renal_measure] = (facts.renal_value, "")
    if RenalMeasure.CRCL not in known and estimate is not None and not _estimate_lacks(facts):
        assert facts.age_years is not None and facts.sex_at_birth and facts.weight_kg
        assert facts.creatinine is not None and facts.creatinine_unit
        value = estimate.estimate(
            age=facts.age_years,
            sex_at_birth=facts.sex_at_birth,
            weight_kg=facts.weight_kg,
            creatinine=facts.creatinine,
            unit=facts.creatinine_unit,
        )
        known[RenalMeasure.CRCL] = (
            value,
            f"Creatinine clearance {value:f} mL/min estimated by Cockcroft-Gault from "
            f"creatinine {facts.creatinine:f} {facts.creatinine_unit}, weight "
            f"{facts.weight_kg:f} kg, age {facts.age_years} and sex at birth "
            f"{facts.sex_at_birth} (rule in the clinic protocol).",
        )
    return known


def _estimate_lacks(facts: CourseFacts) -> tuple[str, ...]:
    needs = (
        ("serum creatinine", facts.creatinine is not None and bool(facts.creatinine_unit)),
        ("weight", facts.weight_kg is not None),
        ("age", facts.age_years is not None),
        ("sex at birth", bool(facts.sex_at_birth)),
    )
    return tuple(name for name, known in needs if not known)


def renal_gaps(
    *, drug: DrugRules, facts: CourseFacts, estimate: CockcroftGault | None = None
) -> tuple[RenalGap, ...]:
    """The renal measures the drug's applicable rules use that are not known for the course
    (none entered, or another measure entered, and no Cockcroft-Gault estimate possible)."""
    known = _renal_values(facts, estimate)
    needed: dict[str, list[str]] = {}
    for rule in _advice_rules(drug, facts):
        if rule.measure is not None and rule.measure not in known:
            needed.setdefault(rule.measure, []).append(rule.id)
    lacks = _estimate_lacks(facts) if estimate is not None else ()
    return tuple(
        RenalGap(
            measure=m,
            given=facts.renal_measure if facts.renal_value is not None else None,
            rule_ids=tuple(ids),
            missing_for_estimate=lacks if m == RenalMeasure.CRCL else (),
        )
        for m, ids in needed.items()
    )


def fact_questions(*, drug: DrugRules, facts: CourseFacts) -> tuple[FactQuestion, ...]:
    """The hepatic, interaction and condition facts the applicable rules use and the course
    has not recorded."""
    asked: dict[str, tuple[list[str], list[str]]] = {}
    for rule in _advice_rules(drug, facts):
        fact = _FACTOR_FACT.get(rule.factor)
        if fact is None or getattr(facts, fact) is not None:
            continue
        options, ids = asked.setdefault(fact, ([], []))
        options.extend(o for o in getattr(rule, fact) if o not in options)
        ids.append(rule.id)
    return tuple(
        FactQuestion(fact=fact, options=tuple(options), rule_ids=tuple(ids))
        for fact, (options, ids) in asked.items()
    )


def _advice_for(
    rule: DoseAdvice, facts: CourseFacts, renal: dict[str, tuple[Decimal, str]]
) -> Advice | None:
    basis = ""
    if rule.factor in ("age", "renal"):
        assert rule.band is not None  # the schema requires it for these factors
        if rule.factor == "age":
            value: Decimal | int | None = facts.age_years
        else:
            value, basis = renal.get(rule.measure or "", (None, ""))
        applies = value is not None and rule.band.contains(value)
    elif rule.factor == "hepatic":
        applies = facts.child_pugh in rule.child_pugh
    elif rule.factor == "interaction":
        applies = bool(set(facts.interacting or ()) & set(rule.interacting))
    else:
        applies = bool(set(facts.conditions or ()) & set(rule.conditions))
    if not applies:
        return None
    return Advice(rule.id, rule.advice, rule.source, rule.verified, rule.not_recommended, basis)

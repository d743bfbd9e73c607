"""Drug rule files and clinic protocols: their schema, and loading them from `seeds/`.

Pure Python (pydantic, PyYAML; no Django) so that the planner, the CLI and the tests share one
definition. Every rule carries the citation it comes from and whether that citation was verified
(see ../shared/reference/jak-monitoring.md); the code adds no clinical number of its own.
A file that breaks the schema raises `RuleFileError` naming the file, the rule and the field.
"""

from __future__ import annotations

import hashlib
from calendar import monthrange
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    ValidationError,
    model_validator,
)

from .dates import Duration
from .units import QUALITATIVE, Analyte, UnitError, check_unit
from .vocab import (
    CheckKind,
    ChildPugh,
    CourseCondition,
    Interacting,
    Interpretation,
    Jurisdiction,
    Phase,
    RenalMeasure,
    RuleAction,
)

RULE_ID = r"^[a-z0-9][a-z0-9._-]*$"


DurationField = Annotated[
    Duration,
    BeforeValidator(Duration.parse),
    PlainSerializer(str, return_type=str),
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)


class Cited(_Strict):
    """Every rule says where it comes from and whether that source was read."""

    source: str = Field(min_length=8)
    verified: bool
    note: str | None = None


class Range(_Strict):
    """A numeric band; bounds follow the label's own wording (`<`, `≤`, `>`, `≥`)."""

    lt: Decimal | None = None
    le: Decimal | None = None
    gt: Decimal | None = None
    ge: Decimal | None = None

    def contains(self, value: Decimal | int) -> bool:
        return (
            (self.lt is None or value < self.lt)
            and (self.le is None or value <= self.le)
            and (self.gt is None or value > self.gt)
            and (self.ge is None or value >= self.ge)
        )

    def has_bound(self) -> bool:
        return any(v is not None for v in (self.lt, self.le, self.gt, self.ge))

    def describe(self) -> str:
        parts = [
            f"{sym} {val:g}"
            for sym, val in (("<", self.lt), ("≤", self.le), (">", self.gt), ("≥", self.ge))
            if val is not None
        ]
        return " and ".join(parts)


class Scope(_Strict):
    """Where a rule applies; None means everywhere / every indication."""

    jurisdictions: list[Jurisdiction] | None = None
    indications: list[str] | None = None

    def applies(self, *, jurisdiction: str, indication: str | None) -> bool:
        if self.jurisdictions is not None and jurisdiction not in self.jurisdictions:
            return False
        if self.indications is not None and indication not in self.indications:
            return False
        return True


class PatientCondition(_Strict):
    sex_at_birth: Literal["female", "male"] | None = None
    age: Range | None = None
    # Pregnancy testing: patients of reproductive potential (staff record it; the protocol's
    # `reproductive_potential` gives the default from sex at birth and age).
    reproductive_potential: bool | None = None

    @model_validator(mode="after")
    def _only_true(self) -> PatientCondition:
        if self.reproductive_potential is False:
            raise ValueError("reproductive_potential can only be true (leave it out otherwise)")
        return self


class Point(_Strict):
    """One follow-up: due `due` after its anchor, acceptable within `window` (label wording)."""

    due: DurationField
    window: tuple[DurationField, DurationField] | None = None

    @model_validator(mode="after")
    def _window_holds_due(self) -> Point:
        if self.due.amount < 1:
            raise ValueError("a follow-up is due at least 1 day after its anchor (use baseline)")
        if self.window is not None:
            if self.window[0].amount < 1:
                raise ValueError("a follow-up window opens at least 1 day after its anchor")
            # Month lengths differ: the window must hold the due date from every kind of anchor.
            for anchor in _ANCHORS:
                lo, hi = (w.days_after(anchor) for w in self.window)
                if not lo <= self.due.days_after(anchor) <= hi:
                    raise ValueError(
                        f"window {self.window[0]}-{self.window[1]} must contain due {self.due}"
                    )
        return self


# Start dates that exercise month ends and leap years when validating windows.
_ANCHORS = tuple(
    date(year, month, day)
    for year in (2023, 2024)
    for month in range(1, 13)
    for day in (1, 28, 31)
    if day <= monthrange(year, month)[1]
)


class MonitoringRule(Scope, Cited):
    id: str = Field(pattern=RULE_ID)
    kind: CheckKind
    what: str = Field(min_length=3)
    analytes: list[Analyte] = []
    applies_if: PatientCondition | None = None
    baseline: bool = False
    follow_up: list[Point] = []
    every: DurationField | None = None
    every_from: DurationField | None = None
    routine: bool = False
    after_dose_increase: list[Point] = []
    # Repeats from the course start, each occurrence `due` after the previous one (within its
    # window), until a clinician marks the dose stable (ruxolitinib: CBC every 2 to 4 weeks).
    until_dose_stable: Point | None = None
    instructions: str | None = None

    @model_validator(mode="after")
    def _schedules_something(self) -> MonitoringRule:
        if not (
            self.baseline
            or self.follow_up
            or self.every
            or self.routine
            or self.after_dose_increase
            or self.until_dose_stable
        ):
            raise ValueError(
                "a monitoring rule needs baseline, follow_up, every, routine, "
                "after_dose_increase or until_dose_stable"
            )
        if self.every_from is not None and self.every is None:
            raise ValueError("every_from needs every")
        if self.every is not None and self.every.amount == 0:
            raise ValueError("every must be longer than 0")
        return self


class Threshold(Scope, Cited):
    id: str = Field(pattern=RULE_ID)
    analyte: Analyte
    unit: str
    action: RuleAction
    band: Range | None = None
    drop_gt: Decimal | None = Field(default=None, gt=0)
    confirm: bool = False
    # Where an `advise` rule speaks (e.g. a conflicting do-not-start value: baseline only).
    phases: list[Phase] | None = None
    text: str = Field(min_length=5)

    @model_validator(mode="after")
    def _has_comparison(self) -> Threshold:
        try:
            check_unit(analyte=self.analyte, unit=self.unit, strict=True)
        except UnitError as exc:
            raise ValueError(str(exc)) from None
        has_band = self.band is not None and self.band.has_bound()
        if has_band == (self.drop_gt is not None):
            raise ValueError("a threshold needs exactly one of band (lt/le/gt/ge) or drop_gt")
        return self

    @property
    def condition(self) -> str:
        """When the rule fires, as staff read it: "< 500 cells/mm3", "drop > 2 g/dL"."""
        if self.band is not None:
            return f"{self.band.describe()} {self.unit}"
        return f"drop > {self.drop_gt:g} {self.unit}"


class ScreeningRule(Scope, Cited):
    """What a screening reading (a positive TB test, HBsAg, ...) means for this drug, in the
    label's words. A reading no rule covers is shown to staff as uncovered, never as "none"."""

    id: str = Field(pattern=RULE_ID)
    analyte: Analyte
    results: list[Interpretation] = Field(min_length=1)
    action: Literal[RuleAction.DO_NOT_START, RuleAction.ADVISE]
    phases: list[Phase] = [Phase.BASELINE]
    text: str = Field(min_length=5)

    @model_validator(mode="after")
    def _screening_analyte(self) -> ScreeningRule:
        if self.analyte not in QUALITATIVE:
            raise ValueError(
                f"{self.analyte!r} is not a screening test; use one of: "
                f"{', '.join(sorted(QUALITATIVE))}"
            )
        return self

    @property
    def condition(self) -> str:
        return " or ".join(self.results)


DoseFactor = Literal["renal", "age", "hepatic", "interaction", "condition"]
# The field each factor is matched on; every other factor field must stay empty.
_FACTOR_FIELD = {
    "renal": "band",
    "age": "band",
    "hepatic": "child_pugh",
    "interaction": "interacting",
    "condition": "conditions",
}


class DoseAdvice(Scope, Cited):
    """Dose advice for a course fact: a renal measure or age in a band, a Child-Pugh class, an
    interacting medicine, or a condition (ESRD, a genotype). `doses` narrows it to the dose
    codes the label's row is for (tofacitinib IR and XR differ)."""

    id: str = Field(pattern=RULE_ID)
    factor: DoseFactor
    measure: RenalMeasure | None = None
    band: Range | None = None
    child_pugh: list[ChildPugh] = []
    interacting: list[Interacting] = []
    conditions: list[CourseCondition] = []
    doses: list[str] | None = Field(default=None, min_length=1)
    advice: str = Field(min_length=5)
    not_recommended: bool = False

    @model_validator(mode="after")
    def _one_factor(self) -> DoseAdvice:
        if (self.factor == "renal") != (self.measure is not None):
            raise ValueError("measure is required for renal advice and only for renal advice")
        needed = _FACTOR_FIELD[self.factor]
        for name in set(_FACTOR_FIELD.values()):
            value = getattr(self, name)
            if name == needed and not value:
                raise ValueError(f"{self.factor} advice needs {name}")
            if name != needed and value:
                raise ValueError(f"{self.factor} advice does not use {name}")
        if self.band is not None and not self.band.has_bound():
            raise ValueError("band needs at least one of lt, le, gt, ge")
        return self

    def for_dose(self, dose_code: str | None) -> bool:
        return self.doses is None or dose_code is None or dose_code in self.doses


class InfectionRule(Scope, Cited):
    id: str = Field(pattern=RULE_ID)
    action: Literal["interrupt", "discontinue"]
    text: str = Field(min_length=5)


class ContraceptionRule(Scope, Cited):
    """How long after the last dose the label asks patients who could become pregnant to keep
    using effective contraception: shown to staff and in the patient's stop email."""

    id: str = Field(pattern=RULE_ID)
    after_last_dose: DurationField
    text: str = Field(min_length=5)


class Dose(Scope):
    code: str = Field(pattern=RULE_ID)
    label: str
    daily_mg: float = Field(gt=0)
    source: str = Field(min_length=8)


class Indication(_Strict):
    code: str = Field(pattern=RULE_ID)
    name: str


class DrugInfo(Cited):
    code: str = Field(pattern=r"^[a-z]+$")
    name: str
    brands: list[str]
    jurisdictions: list[Jurisdiction] = Field(min_length=1)
    indications: list[Indication] = Field(min_length=1)


class DrugRules(_Strict):
    """One drug's rule file (`seeds/drugs/<code>.yaml`)."""

    schema_version: Literal["1"]
    drug: DrugInfo
    doses: list[Dose] = Field(min_length=1)
    monitoring: list[MonitoringRule] = Field(min_length=1)
    thresholds: list[Threshold] = []
    screening: list[ScreeningRule] = []
    dose_advice: list[DoseAdvice] = []
    infection: list[InfectionRule] = Field(min_length=1)
    contraception: list[ContraceptionRule] = []

    def all_rules(
        self,
    ) -> list[
        MonitoringRule | Threshold | ScreeningRule | DoseAdvice | InfectionRule | ContraceptionRule
    ]:
        return [
            *self.monitoring,
            *self.thresholds,
            *self.screening,
            *self.dose_advice,
            *self.infection,
            *self.contraception,
        ]

    def dose(self, code: str) -> Dose | None:
        return next((d for d in self.doses if d.code == code), None)


class ProtocolSettings(Cited):
    baseline_lookback: DurationField
    tolerance_before: DurationField
    tolerance_after: DurationField
    # A repeat test ordered from a finding is due at once and must be done within this.
    repeat_within: DurationField
    # A catch-up for checks missed before the course was entered (or planned) is due at once
    # and must be done within this.
    catch_up_within: DurationField


class CockcroftGault(Cited):
    """Creatinine clearance estimated from serum creatinine, age, sex and weight, for labels
    whose renal bands use it: (age_from - age) x weight / (divisor x creatinine in mg/dL),
    times female_factor for women."""

    age_from: Decimal
    divisor: Decimal = Field(gt=0)
    female_factor: Decimal = Field(gt=0, le=1)
    umol_per_mg_dl: Decimal = Field(gt=0)

    def estimate(
        self, *, age: int, sex_at_birth: str, weight_kg: Decimal, creatinine: Decimal, unit: str
    ) -> Decimal:
        """mL/min, to one decimal; `unit` is "umol/L" or "mg/dL"."""
        mg_dl = creatinine if unit == "mg/dL" else creatinine / self.umol_per_mg_dl
        value = (self.age_from - age) * weight_kg / (self.divisor * mg_dl)
        if sex_at_birth == "female":
            value *= self.female_factor
        return max(value, Decimal(0)).quantize(Decimal("0.1"))


class ReproductiveDefault(Cited):
    """Who counts as of reproductive potential until staff say otherwise: patients recorded
    female at birth whose age is in `age`."""

    age: Range


class ProtocolInfo(Cited):
    code: str = Field(pattern=RULE_ID)
    name: str
    description: str


class ProtocolRules(_Strict):
    """A clinic protocol (`seeds/protocols/<code>.yaml`): fills "routine patient management"
    gaps and may add checks; it never removes a label requirement."""

    schema_version: Literal["1"]
    protocol: ProtocolInfo
    settings: ProtocolSettings
    cockcroft_gault: CockcroftGault | None = None
    reproductive_potential: ReproductiveDefault | None = None
    routine: list[MonitoringRule] = []
    additional: list[MonitoringRule] = []
    thresholds: list[Threshold] = []

    @model_validator(mode="after")
    def _consistent(self) -> ProtocolRules:
        ids = [r.id for r in [*self.routine, *self.additional]] + [t.id for t in self.thresholds]
        _unique(ids, "rule id")
        _unique([r.kind for r in self.routine], "routine kind")
        for rule in self.routine:
            if rule.baseline or rule.routine or rule.after_dose_increase or rule.until_dose_stable:
                raise ValueError(f"routine rule {rule.id!r} may only use follow_up and every")
        return self

    def routine_for(self, kind: str) -> MonitoringRule | None:
        return next((r for r in self.routine if r.kind == kind), None)


def _unique(values: list[str], what: str) -> None:
    seen: set[str] = set()
    for value in values:
        if value in seen:
            raise ValueError(f"duplicate {what} {value!r}")
        seen.add(value)


class RuleFileError(ValueError):
    """A seed file that cannot be loaded; names the file, the rule and the field."""

    def __init__(self, path: Path | str, rule: str | None, field: str | None, message: str):
        self.path, self.rule, self.field, self.message = str(path), rule, field, message
        where = [self.path]
        if rule:
            where.append(f"rule {rule!r}")
        if field:
            where.append(f"field {field!r}")
        super().__init__(f"{': '.join(where)}: {message}")


@dataclass(frozen=True)
class LoadedFile:
    path: str
    checksum: str
    document: dict[str, Any]


@dataclass(frozen=True)
class LoadedDrug(LoadedFile):
    rules: DrugRules


@dataclass(frozen=True)
class LoadedProtocol(LoadedFile):
    rules: ProtocolRules


@dataclass(frozen=True)
class RuleLibrary:
    drugs: dict[str, LoadedDrug]
    protocols: dict[str, LoadedProtocol]


class _StrictLoader(yaml.BaseLoader):
    """BaseLoader keeps every scalar a string, so YAML's implicit typing (dates, "no" → False)
    cannot silently change a rule; pydantic converts the strings it expects. A key given twice
    in one mapping is an error: PyYAML keeps the last silently, so a second `monitoring:` block
    would replace the first."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            line = key_node.start_mark.line + 1
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None,
                    None,
                    f"duplicate key {key!r} on line {line} (first on line {seen[key]})",
                    key_node.start_mark,
                )
            seen[key] = line
        return super().construct_mapping(node, deep=deep)


def _read_yaml(path: Path) -> tuple[dict[str, Any], str]:
    raw = path.read_bytes()
    try:
        document = yaml.load(raw.decode("utf-8"), Loader=_StrictLoader)
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise RuleFileError(path, None, None, f"not valid YAML: {exc}") from exc
    if not isinstance(document, dict):
        raise RuleFileError(path, None, None, "the file must hold a mapping at the top level")
    return document, hashlib.sha256(raw).hexdigest()


def _error_from_validation(
    path: Path, document: dict[str, Any], exc: ValidationError
) -> RuleFileError:
    first = exc.errors()[0]
    loc = list(first["loc"])
    rule = None
    if len(loc) >= 2 and isinstance(loc[0], str) and isinstance(loc[1], int):
        try:
            item = document[loc[0]][loc[1]]
            rule = item.get("id") or item.get("code") if isinstance(item, dict) else None
        except (KeyError, IndexError, TypeError):
            rule = None
        rule = rule or f"{loc[0]}[{loc[1]}]"
        field_path = loc[2:]
    else:
        field_path = loc
    field = ".".join(str(p) for p in field_path) or None
    message = first["msg"].removeprefix("Value error, ")
    return RuleFileError(path, rule, field, message)


def _check_drug_consistency(path: Path, rules: DrugRules) -> None:
    """Checks across rules, which the per-field schema cannot see; errors name rule and field."""
    code = rules.drug.code
    if code != path.stem:
        raise RuleFileError(path, None, "drug.code", f"{code!r} must match the file name")
    known = {i.code for i in rules.drug.indications}
    seen: set[str] = set()
    for rule in [*rules.all_rules(), *rules.doses]:
        name = rule.code if isinstance(rule, Dose) else rule.id
        if isinstance(rule, Dose):
            if name in seen:
                raise RuleFileError(path, name, "code", f"duplicate dose code {name!r}")
        elif not name.startswith(f"{code}."):
            raise RuleFileError(path, name, "id", f"rule id must start with '{code}.'")
        elif name in seen:
            raise RuleFileError(path, name, "id", f"duplicate rule id {name!r}")
        seen.add(name)
        for dose in (rule.doses if isinstance(rule, DoseAdvice) else None) or ():
            if rules.dose(dose) is None:
                raise RuleFileError(path, name, "doses", f"{dose!r} is not in doses")
        for indication in rule.indications or ():
            if indication not in known:
                raise RuleFileError(
                    path, name, "indications", f"{indication!r} is not in drug.indications"
                )


def load_drug_file(path: Path) -> LoadedDrug:
    document, checksum = _read_yaml(path)
    try:
        rules = DrugRules.model_validate(document)
    except ValidationError as exc:
        raise _error_from_validation(path, document, exc) from None
    _check_drug_consistency(path, rules)
    return LoadedDrug(str(path), checksum, rules.model_dump(mode="json"), rules)


def load_protocol_file(path: Path) -> LoadedProtocol:
    document, checksum = _read_yaml(path)
    try:
        rules = ProtocolRules.model_validate(document)
    except ValidationError as exc:
        raise _error_from_validation(path, document, exc) from None
    if rules.protocol.code != path.stem:
        raise RuleFileError(
            path, None, "protocol.code", f"{rules.protocol.code!r} must match the file name"
        )
    return LoadedProtocol(str(path), checksum, rules.model_dump(mode="json"), rules)


def load_library(seed_dir: Path) -> RuleLibrary:
    """Validate every file under `seed_dir` before anything is used: all or nothing."""
    drug_files = sorted((seed_dir / "drugs").glob("*.yaml"))
    protocol_files = sorted((seed_dir / "protocols").glob("*.yaml"))
    if not drug_files:
        raise RuleFileError(seed_dir / "drugs", None, None, "no drug rule files (*.yaml) found")
    if not protocol_files:
        raise RuleFileError(seed_dir / "protocols", None, None, "no protocol files (*.yaml) found")
    drugs = {p.stem: load_drug_file(p) for p in drug_files}
    protocols = {p.stem: load_protocol_file(p) for p in protocol_files}
    for protocol in protocols.values():
        _check_protocol_covers_routine(protocol, drugs)
    return RuleLibrary(drugs, protocols)


def _check_protocol_covers_routine(protocol: LoadedProtocol, drugs: dict[str, LoadedDrug]) -> None:
    """A label rule that leaves its interval to routine care is planned by the protocol's checks
    of its kind: a protocol without any would drop a label requirement, which it may not."""
    rules = protocol.rules
    kinds = {r.kind for r in [*rules.routine, *rules.additional]}
    for loaded in drugs.values():
        for rule in loaded.rules.monitoring:
            if rule.routine and rule.kind not in kinds:
                raise RuleFileError(
                    protocol.path,
                    None,
                    "routine",
                    f"no {rule.kind} interval: {rule.id} leaves it to routine care, and a "
                    "protocol may not drop a label's check",
                )

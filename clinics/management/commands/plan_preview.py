"""Preview the checks a drug's rules would plan for a course, before enrolling anyone."""

from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from clinics.core.dates import Duration
from clinics.core.planning import CourseFacts, plan_course
from clinics.core.vocab import (
    ChildPugh,
    Codes,
    CourseCondition,
    Interacting,
    RenalMeasure,
    SexAtBirth,
)

from ._options import add_rule_options, drug_from, dump_json, library, parse_date, render_table


class Command(BaseCommand):
    help = "Print the monitoring plan for a drug and start date (table or JSON)."

    def add_arguments(self, parser: CommandParser) -> None:
        add_rule_options(parser)
        parser.add_argument("--start", required=True, help="Course start date, YYYY-MM-DD")
        parser.add_argument("--dose", help="Dose code (default: the drug's first)")
        parser.add_argument("--age", type=int, help="Patient age in years")
        parser.add_argument(
            "--sex",
            choices=(SexAtBirth.FEMALE.value, SexAtBirth.MALE.value),
            help="Sex at birth, where a rule needs it",
        )
        parser.add_argument("--renal", help="Renal function value, e.g. 45")
        parser.add_argument("--renal-measure", choices=RenalMeasure.values())
        parser.add_argument("--weight", help="Weight in kg (for a Cockcroft-Gault estimate)")
        parser.add_argument(
            "--creatinine", help="Serum creatinine with its unit, e.g. 88umol/L or 1.1mg/dL"
        )
        parser.add_argument("--child-pugh", choices=ChildPugh.values())
        parser.add_argument(
            "--interacting",
            help="Interacting medicines, comma-separated (none: reviewed, none apply): "
            + ", ".join(Interacting.values()),
        )
        parser.add_argument(
            "--conditions",
            help="Conditions, comma-separated (none: reviewed, none apply): "
            + ", ".join(CourseCondition.values()),
        )
        parser.add_argument("--protocol", default="default")
        parser.add_argument("--horizon-months", type=int, default=24)

    def handle(self, *args: Any, **options: Any) -> None:
        lib = library(options)
        drug = drug_from(lib, options)
        if options["protocol"] not in lib.protocols:
            raise CommandError(f"--protocol: unknown protocol {options['protocol']!r}")
        if options["dose"] and drug.dose(options["dose"]) is None:
            raise CommandError(f"--dose: choose one of {', '.join(d.code for d in drug.doses)}")
        if options["age"] is not None and not 0 <= options["age"] <= 130:
            raise CommandError("--age: give an age between 0 and 130")
        if not 1 <= options["horizon_months"] <= 120:
            raise CommandError("--horizon-months: give 1 to 120")
        renal = None
        if options["renal"] is not None:
            try:
                renal = Decimal(options["renal"])
            except InvalidOperation:
                raise CommandError(f"--renal: {options['renal']!r} is not a number") from None
            if not options["renal_measure"]:
                raise CommandError("--renal-measure: required with --renal")
        creatinine, creatinine_unit = _creatinine(options["creatinine"])
        facts = CourseFacts(
            start=parse_date(options["start"], "start"),
            jurisdiction=options["jurisdiction"],
            indication=options["indication"],
            age_years=options["age"],
            sex_at_birth=options["sex"],
            renal_value=renal,
            renal_measure=options["renal_measure"],
            dose_code=options["dose"] or drug.doses[0].code,
            child_pugh=options["child_pugh"],
            interacting=_codes(options["interacting"], Interacting, "interacting"),
            conditions=_codes(options["conditions"], CourseCondition, "conditions"),
            weight_kg=_positive(options["weight"], "weight"),
            creatinine=creatinine,
            creatinine_unit=creatinine_unit,
        )
        plan = plan_course(
            drug=drug,
            protocol=lib.protocols[options["protocol"]].rules,
            facts=facts,
            horizon=Duration(options["horizon_months"], "m"),
        )
        if options["format"] == "json":
            self.stdout.write(
                dump_json(
                    {
                        "drug": drug.drug.code,
                        "start": facts.start,
                        "jurisdiction": facts.jurisdiction,
                        "indication": facts.indication,
                        "dose": options["dose"] or drug.doses[0].code,
                        "checks": [
                            {
                                "key": c.key,
                                "kind": c.kind,
                                "due": c.due,
                                "window_start": c.window_start,
                                "window_end": c.window_end,
                                "analytes": list(c.analytes),
                                "rules": [
                                    {
                                        "rule": r.rule_id,
                                        "layer": r.layer,
                                        "source": r.source,
                                        "verified": r.verified,
                                        "anchor": r.anchor,
                                    }
                                    for r in c.reasons
                                ],
                            }
                            for c in plan.checks
                        ],
                        "advice": [
                            {
                                "rule": a.rule_id,
                                "text": a.text,
                                "source": a.source,
                                "verified": a.verified,
                                "not_recommended": a.not_recommended,
                                "basis": a.basis,
                            }
                            for a in plan.advice
                        ],
                        "renal_gaps": [
                            {"measure": g.measure, "rules": list(g.rule_ids), "text": g.text}
                            for g in plan.renal_gaps
                        ],
                        "questions": [
                            {"fact": q.fact, "options": list(q.options), "text": q.text}
                            for q in plan.questions
                        ],
                    }
                )
            )
            return
        rows = [
            [
                c.kind,
                c.due,
                f"{c.window_start} – {c.window_end}",
                r.rule_id + ("" if r.verified else " [unverified]"),
                r.source,
            ]
            for c in plan.checks
            for r in c.reasons
        ]
        self.stdout.write(render_table(["kind", "due", "window", "rule", "source"], rows))
        for advice in plan.advice:
            flag = "" if advice.verified else " [unverified]"
            self.stdout.write(
                f"\nDose advice ({advice.rule_id}{flag}): {advice.text} [{advice.source}]"
            )
            if advice.basis:
                self.stdout.write(f"  {advice.basis}")
        for gap in plan.renal_gaps:
            self.stdout.write(f"\nRenal advice not applied: {gap.text}")
        for question in plan.questions:
            self.stdout.write(f"\nAsk: {question.text}")


def _positive(value: str | None, name: str) -> Decimal | None:
    if value is None:
        return None
    try:
        number = Decimal(value)
    except InvalidOperation:
        raise CommandError(f"--{name}: {value!r} is not a number") from None
    if not number.is_finite() or number <= 0:
        raise CommandError(f"--{name}: give a number above 0")
    return number


def _creatinine(value: str | None) -> tuple[Decimal | None, str | None]:
    if value is None:
        return None, None
    for unit in ("umol/L", "mg/dL"):
        if value.lower().endswith(unit.lower()):
            return _positive(value[: -len(unit)].strip(), "creatinine"), unit
    raise CommandError("--creatinine: give the unit, umol/L or mg/dL (e.g. 88umol/L)")


def _codes(value: str | None, known: type[Codes], name: str) -> tuple[str, ...] | None:
    """None if not given (not reviewed); () for "none"."""
    if value is None:
        return None
    codes = tuple(c.strip() for c in value.split(",") if c.strip() and c.strip() != "none")
    unknown = [c for c in codes if c not in known.values()]
    if unknown:
        raise CommandError(f"--{name}: unknown {', '.join(unknown)}; {known.refusal()}")
    return codes

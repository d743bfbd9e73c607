"""Evaluate one lab value, or one screening reading, against a drug's rules, without a patient."""

from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from clinics.core.thresholds import evaluate
from clinics.core.units import QUALITATIVE, UnitError
from clinics.core.vocab import Interpretation, Phase

from ._options import add_rule_options, drug_from, dump_json, library, render_table


def _number(value: str, name: str) -> Decimal:
    try:
        number = Decimal(value)
    except InvalidOperation:
        raise CommandError(f"--{name}: {value!r} is not a number") from None
    if not number.is_finite():
        raise CommandError(f"--{name}: {value!r} is not a number")
    return number


class Command(BaseCommand):
    help = (
        "Print the threshold outcome (none/advise/do_not_start/interrupt/discontinue) for a result."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        add_rule_options(parser)
        parser.add_argument("--analyte", required=True, help="e.g. anc, alc, hb, platelets, alt")
        parser.add_argument("--value", help="The number (optional for a screening test)")
        parser.add_argument(
            "--unit", default="", help="e.g. cells/mm3, 10^9/L, g/dL, g/L, xULN, IU/mL"
        )
        parser.add_argument(
            "--qualitative",
            metavar="VALUE",
            default="",
            choices=["", *Interpretation.values()],
            help="A screening test's reading (igra, tst, hbsag, anti_hbc, hcv_ab, hcg)",
        )
        parser.add_argument(
            "--previous", help="Previous value in the same unit, for rules that compare"
        )
        parser.add_argument("--phase", default=Phase.TREATMENT.value, choices=Phase.values())
        parser.add_argument("--protocol", default="default")

    def handle(self, *args: Any, **options: Any) -> None:
        lib = library(options)
        drug = drug_from(lib, options)
        protocol = lib.protocols.get(options["protocol"])
        if protocol is None:
            raise CommandError(f"--protocol: unknown protocol {options['protocol']!r}")
        previous = options["previous"]
        if options["analyte"] in QUALITATIVE and not options["qualitative"]:
            raise CommandError(f"--qualitative: a {options['analyte']} result needs its reading")
        try:
            outcome = evaluate(
                drug=drug,
                protocol=protocol.rules,
                analyte=options["analyte"],
                value=None if options["value"] is None else _number(options["value"], "value"),
                unit=options["unit"],
                jurisdiction=options["jurisdiction"],
                indication=options["indication"],
                phase=options["phase"],
                previous=None if previous is None else _number(previous, "previous"),
                interpretation=options["qualitative"],
            )
        except UnitError as exc:
            raise CommandError(f"--{exc.field}: {exc}") from None
        if options["format"] == "json":
            self.stdout.write(
                dump_json(
                    {
                        "drug": drug.drug.code,
                        "analyte": options["analyte"],
                        "value": options["value"],
                        "unit": options["unit"],
                        "qualitative": options["qualitative"],
                        "jurisdiction": options["jurisdiction"],
                        "action": outcome.action,
                        "findings": [
                            {
                                "rule": f.rule_id,
                                "action": f.action,
                                "text": f.text,
                                "source": f.source,
                                "verified": f.verified,
                                "confirm_by_repeat": f.confirm,
                            }
                            for f in outcome.findings
                        ],
                    }
                )
            )
            return
        self.stdout.write(f"action: {outcome.action}")
        if outcome.findings:
            rows = [
                [f.action, f.rule_id + ("" if f.verified else " [unverified]"), f.text, f.source]
                for f in outcome.findings
            ]
            self.stdout.write(render_table(["rule action", "rule", "text", "source"], rows))

"""Shared option handling for the rule-preview commands (read the seed files, no database)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import CommandError, CommandParser

from clinics.core.ruleset import DrugRules, RuleFileError, RuleLibrary, load_library
from clinics.core.vocab import Jurisdiction


def add_rule_options(parser: CommandParser) -> None:
    parser.add_argument("--drug", required=True, help="Drug code, e.g. tofacitinib")
    parser.add_argument("--jurisdiction", default="US", choices=Jurisdiction.values())
    parser.add_argument("--indication", help="Indication code (default: the drug's first)")
    parser.add_argument("--seeds", default=settings.JAKMONITOR["SEED_DIR"], help="Rule directory")
    parser.add_argument("--format", default="table", choices=("table", "json"))


def library(options: dict[str, Any]) -> RuleLibrary:
    try:
        return load_library(Path(options["seeds"]))
    except RuleFileError as exc:
        raise CommandError(str(exc)) from None


def drug_from(lib: RuleLibrary, options: dict[str, Any]) -> DrugRules:
    code = options["drug"]
    if code not in lib.drugs:
        raise CommandError(
            f"--drug: unknown drug {code!r}; choose one of {', '.join(sorted(lib.drugs))}"
        )
    rules = lib.drugs[code].rules
    if options["jurisdiction"] not in rules.drug.jurisdictions:
        raise CommandError(
            f"--jurisdiction: {rules.drug.name} has no {options['jurisdiction']} label"
        )
    indication = options.get("indication") or rules.drug.indications[0].code
    if indication not in {i.code for i in rules.drug.indications}:
        codes = ", ".join(i.code for i in rules.drug.indications)
        raise CommandError(
            f"--indication: {indication!r} is not an indication of {code}; use one of {codes}"
        )
    options["indication"] = indication
    return rules


def parse_date(value: str, name: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"--{name}: {value!r} is not a date like 2026-01-31") from None


def render_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    widths = [max(len(str(x)) for x in col) for col in zip(headers, *rows, strict=True)]

    def line(cells: Sequence[object]) -> str:
        return "  ".join(str(c).ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip()

    return "\n".join([line(headers), line(["-" * w for w in widths]), *(line(r) for r in rows)])


def dump_json(data: object) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False, default=str)

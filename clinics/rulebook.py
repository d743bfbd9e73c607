"""The rules in force: a drug's or a protocol's current stored version, parsed once per checksum.

A stored version never changes, and two versions with the same checksum hold the same document,
so the parsed rules are cached by checksum: a version id that a rolled-back transaction used
and a later one reuses can never be served another version's rules. Reading the current version
costs one small query (its checksum only) unless the caller's queryset selected it
(`with_rules`); the document itself is read only when its checksum was not parsed before.
Imports no service: services, selectors and entry points all read rules from here.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import TypeVar

from django.db.models import Model, QuerySet

from .core.ruleset import DrugRules, ProtocolRules
from .models import Drug, Protocol, RuleSetVersion

_CACHE_SIZE = 256
_Rules = TypeVar("_Rules", DrugRules, ProtocolRules)
_parsed: OrderedDict[str, DrugRules | ProtocolRules] = OrderedDict()


_M = TypeVar("_M", bound=Model)


def with_rules(queryset: QuerySet[_M], *paths: str) -> QuerySet[_M]:
    """`queryset` reading, along each path to a Drug or Protocol, its current version's checksum
    in the same query (not its document), so that reading rules for many rows costs nothing."""
    versions = [f"{path}__current_version" for path in paths]
    return queryset.select_related(*versions).defer(*(f"{v}__document" for v in versions))


def _current(owner: Drug | Protocol) -> RuleSetVersion:
    """The owner's current version, read without its document when not already loaded."""
    if not type(owner).current_version.is_cached(owner):
        owner.current_version = RuleSetVersion.objects.defer("document").get(
            pk=owner.current_version_id
        )
    return owner.current_version


def _rules(version: RuleSetVersion, parse: type[_Rules]) -> _Rules:
    key = f"{version.kind}:{version.checksum}"
    rules = _parsed.get(key)
    if rules is None:
        rules = parse.model_validate(version.document)
        _parsed[key] = rules
        if len(_parsed) > _CACHE_SIZE:
            _parsed.popitem(last=False)
    else:
        _parsed.move_to_end(key)
    assert isinstance(rules, parse)
    return rules


def drug_rules(*, drug: Drug) -> DrugRules:
    """The drug's rules in force."""
    return _rules(_current(drug), DrugRules)


def protocol_rules(*, protocol: Protocol) -> ProtocolRules:
    """The clinic protocol's rules in force."""
    return _rules(_current(protocol), ProtocolRules)

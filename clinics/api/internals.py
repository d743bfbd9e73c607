"""Code that reads framework internals, fenced here: read this module before upgrading Django,
Django REST framework, django-filter or drf-spectacular.

- `json_values`: the checks list's rows read as the database sends them, without Django's
  per-value converters (Django's `ValuesIterable` internals: `query.selected`, `compiler.select`).
  `.values()` converts every value into a Python object (a UUID from SQLite's hex text, a list
  from JSON text) only for the renderer to write it straight back out as text; on a page of
  checks that cost more than the query. Only UUIDs and JSON are touched; a column of any other
  kind is refused, so a new column cannot silently change the API's output. The rows need the
  orjson renderer (`orjson.Fragment`), the API's JSON renderer. Guarded by the test that holds
  the list's rows equal to the serializer's on both databases (bench/api.py measures it).
- `StaticFormFilterSet`: django-filter's form class built once per FilterSet, not per request
  (it relies on `get_form_class` building the class from the filters alone).
- `ApiSchema`: drf-spectacular's private `_get_response_bodies` and `_get_response_for_code`,
  so that every operation documents its 400/401/403/404/409 answers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from itertools import chain
from types import MappingProxyType
from typing import Any, Literal, TypeVar

import django_filters as filters
from django import forms
from django.db.models import Field, Model, QuerySet
from django.db.models.query import ValuesIterable
from django.db.models.sql.constants import MULTI
from django_filters.filters import QuerySetRequestMixin
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from orjson import Fragment

_M = TypeVar("_M", bound=Model)

IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    str,
    OpenApiParameter.HEADER,
    description="Retry-safe POST: the same key (per user, 24 h) with the same body replays the "
    "first answer instead of doing the work again (1 to 255 visible ASCII characters).",
)


def _uuid(value: object) -> object:
    """SQLite keeps a UUID as 32 hex digits, psycopg returns a UUID: both as the serializer
    writes them (the renderer writes a UUID in its dashed form)."""
    if not (isinstance(value, str) and len(value) == 32):
        return value
    return f"{value[:8]}-{value[8:12]}-{value[12:16]}-{value[16:20]}-{value[20:]}"


def _json(value: str | None) -> Fragment | None:
    """Both backends return a JSON column as its text (valid JSON: SQLite's column has a
    JSON_VALID check, PostgreSQL's is jsonb), which the renderer embeds as it is."""
    return None if value is None else Fragment(value)


CONVERSIONS: dict[
    str, Callable[[Any], object] | None
] = {  # each kind of column: None where the value is sent as the database gave it
    "AutoField": None,
    "BigAutoField": None,
    "BooleanField": None,
    "CharField": None,
    "DateField": None,
    "IntegerField": None,
    "PositiveIntegerField": None,
    "PositiveSmallIntegerField": None,
    "TextField": None,
    "JSONField": _json,
    "UUIDField": _uuid,
}


class JsonValuesIterable(ValuesIterable):
    """`ValuesIterable` with values as `CONVERSIONS` leaves them, each row a dict keyed by
    `names` (output name for each column read; a column not named keeps its own name)."""

    names: Mapping[str, str] = MappingProxyType({})

    def __iter__(self) -> Iterator[dict[str, object]]:
        query = self.queryset.query
        compiler = query.get_compiler(self.queryset.db)
        columns = (
            list(query.selected)
            if query.selected
            else [*query.extra_select, *query.values_select, *query.annotation_select]
        )
        names = [self.names.get(column, column) for column in columns]
        chunks = compiler.execute_sql(  # compiles the query first: `compiler.select` is set
            MULTI, chunked_fetch=self.chunked_fetch, chunk_size=self.chunk_size
        )
        fields = [expression.output_field for expression, _sql, _alias in compiler.select or ()]
        converted = [
            (i, name, convert)
            for i, (name, field) in enumerate(zip(names, fields, strict=False))
            if (convert := _conversion(field)) is not None
        ]
        for row in chain.from_iterable(chunks):  # (a row may end with columns it does not name)
            values = dict(zip(names, row, strict=False))
            for i, name, convert in converted:
                values[name] = convert(row[i])
            yield values


def _conversion(field: Field[Any, Any]) -> Callable[[Any], object] | None:
    kind = field.get_internal_type()
    # A subclass (an encrypted or enum text field) converts in `from_db_value`: not passed raw.
    if kind not in CONVERSIONS or (hasattr(field, "from_db_value") and kind != "JSONField"):
        raise TypeError(f"json_values cannot read a {kind} column ({field!r}); use values()")
    return CONVERSIONS[kind]


def json_values(queryset: QuerySet[_M], columns: dict[str, str]) -> QuerySet[_M, dict[str, Any]]:
    """`queryset.values(*columns.values())`, each row keyed by `columns`' keys (its output
    names, in its order), its values ready for the JSON renderer (see the module). Build it
    once (a class attribute): each call makes an iterable class for its names."""
    if len(set(columns.values())) != len(columns):
        raise ValueError(f"json_values reads each column once: {columns}")
    clone = queryset.values(*columns.values())
    names = {column: name for name, column in columns.items()}
    clone._iterable_class = type("NamedJsonValuesIterable", (JsonValuesIterable,), {"names": names})
    return clone


class StaticFormFilterSet(filters.FilterSet):  # type: ignore[misc]  # django-filter has no types
    """django-filter builds a new form class from the filters for every request; when no filter
    depends on the request (its choices, say), the class is the same each time, so it is built
    once per FilterSet (each request still gets a form instance of its own)."""

    def get_form_class(self) -> type[forms.Form]:
        cls = type(self)
        if "_form_class" in cls.__dict__:
            form: type[forms.Form] = cls._form_class
            return form
        form_class: type[forms.Form] = super().get_form_class()
        if not any(isinstance(f, QuerySetRequestMixin) for f in self.filters.values()):
            cls._form_class = form_class
        return form_class


ERRORS = {
    "400": "Bad input: each field named with what is wrong with it",
    "401": "No or bad credentials",
    "403": "Your role in this clinic does not allow this",
    "404": "No such object in your clinics",
    "409": "The object's state does not allow this (e.g. resuming a stopped course)",
}


class ApiSchema(AutoSchema):
    def get_override_parameters(self) -> list[Any]:
        """Every POST takes an Idempotency-Key (`ScopedViewSet.dispatch`); a public hook."""
        parameters: list[Any] = list(super().get_override_parameters())
        if self.method == "POST":
            parameters.append(IDEMPOTENCY_KEY)
        return parameters

    def _get_response_bodies(
        self, direction: Literal["request", "response"] = "response"
    ) -> dict[str, Any]:
        bodies: dict[str, Any] = super()._get_response_bodies(direction)
        if direction == "response":
            for code, text in ERRORS.items():
                if code not in bodies:
                    error = OpenApiResponse(OpenApiTypes.OBJECT, description=text)
                    bodies[code] = self._get_response_for_code(  # type: ignore[no-untyped-call]
                        error, code, direction=direction
                    )
        return bodies

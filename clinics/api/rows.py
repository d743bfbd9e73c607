"""Rows read for the JSON renderer as the database sends them, without Django's converters.

`.values()` converts every value of every row into a Python object (a UUID from SQLite's hex
text, a list from JSON text) only for the renderer to write it straight back out as text; on a
page of checks that cost more than the query. `json_values` reads the same columns, keeps what
the renderer already writes as the serializer would (text, numbers, booleans, dates: sqlite3 and
psycopg deliver those typed), and touches only the two kinds that need it. A column of any other
kind is refused, so a new column cannot silently change the API's output.
"""

from itertools import chain

from django.db.models import QuerySet
from django.db.models.query import ValuesIterable
from django.db.models.sql.constants import MULTI
from orjson import Fragment


def _uuid(value):
    """SQLite keeps a UUID as 32 hex digits, psycopg returns a UUID: both as the serializer
    writes them (the renderer writes a UUID in its dashed form)."""
    if not isinstance(value, str):
        return value
    return f"{value[:8]}-{value[8:12]}-{value[12:16]}-{value[16:20]}-{value[20:]}"


def _json(value):
    """Both backends return a JSON column as its text (valid JSON: SQLite's column has a
    JSON_VALID check, PostgreSQL's is jsonb), which the renderer embeds as it is."""
    return None if value is None else Fragment(value)


CONVERSIONS = {  # each kind of column: None where the value is sent as the database gave it
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
    """`ValuesIterable` (a dict per row, the same names) with values as `CONVERSIONS` leaves them."""

    def __iter__(self):
        query = self.queryset.query
        compiler = query.get_compiler(self.queryset.db)
        names = list(query.selected) if query.selected else [
            *query.extra_select, *query.values_select, *query.annotation_select
        ]  # fmt: skip
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


def _conversion(field):
    kind = field.get_internal_type()
    if kind not in CONVERSIONS:
        raise TypeError(f"json_values cannot read a {kind} column ({field!r}); use values()")
    return CONVERSIONS[kind]


def json_values(queryset: QuerySet, *fields: str) -> QuerySet:
    """`queryset.values(*fields)`, its rows ready for the JSON renderer (see the module)."""
    clone = queryset.values(*fields)
    clone._iterable_class = JsonValuesIterable
    return clone

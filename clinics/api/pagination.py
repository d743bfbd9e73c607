"""Keyset pagination: the `next` link carries the last row's sort key (each list ends its order
with the id, so the key is unique), and the next page is the rows after that key. A page costs
the same wherever it is in a long list (no COUNT, no OFFSET scan), and rows that change or
arrive meanwhile are neither skipped nor repeated, however many share a due date."""

import base64
import binascii
import json
from collections.abc import Sequence
from functools import reduce
from typing import Any, Protocol, TypeVar, runtime_checkable

from django.core.exceptions import FieldDoesNotExist, ImproperlyConfigured, ValidationError
from django.db.models import Field, Model, Q, QuerySet
from rest_framework.exceptions import NotFound
from rest_framework.pagination import BasePagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param
from rest_framework.views import APIView

INVALID = "Invalid cursor."

_M = TypeVar("_M", bound=Model)
_Row = TypeVar("_Row")


@runtime_checkable
class CursorOrdered(Protocol):
    """A view `Pages` can paginate: its list's order, ending with the id (unique)."""

    cursor_ordering: Sequence[str]


class Pages(BasePagination):
    page_size = 100
    max_page_size = 500
    cursor_query_param = "cursor"
    page_size_query_param = "page_size"
    ordering: tuple[str, ...]
    base_url: str
    size: int
    last_key: list[str] | None

    def paginate_queryset(
        self, queryset: QuerySet[_M, _Row], request: Request, view: APIView | None = None
    ) -> list[_Row]:
        """The page after the request's cursor, in the view's `cursor_ordering` (ends with id)."""
        if not isinstance(view, CursorOrdered):
            raise TypeError(f"Pages needs a view with a cursor_ordering, not {view!r}")
        self.ordering = tuple(view.cursor_ordering)
        self.base_url = request.build_absolute_uri()
        try:
            size = int(request.query_params.get(self.page_size_query_param, self.page_size))
        except ValueError:
            size = self.page_size
        self.size = min(max(size, 1), self.max_page_size)
        queryset = queryset.order_by(*self.ordering)
        cursor = request.query_params.get(self.cursor_query_param)
        if cursor:
            queryset = queryset.filter(self._after(queryset.model, self._decode(cursor)))
        rows = list(queryset[: self.size + 1])
        page = rows[: self.size]
        # Read now: the view may drop the cursor's columns from the rows it returns.
        self.last_key = self._key(page[-1]) if len(rows) > self.size else None
        return page

    def _decode(self, cursor: str) -> list[object]:
        try:
            values = json.loads(base64.urlsafe_b64decode(cursor.encode("ascii")))
        except (ValueError, binascii.Error, UnicodeError):
            raise NotFound(INVALID) from None
        if not isinstance(values, list) or len(values) != len(self.ordering):
            raise NotFound(INVALID)
        return values

    def _after(self, model: type[Model], values: list[object]) -> Q:
        """Rows after `values` in the ordering: (a > x) or (a = x and b > y) or ..."""
        fields: list[tuple[str, str, object]] = []
        for name, raw in zip(self.ordering, values, strict=True):
            try:
                field = model._meta.get_field(name.lstrip("-"))
                if not isinstance(field, Field):  # a relation's other side: no column to sort on
                    raise ImproperlyConfigured(f"cursor_ordering: {name!r} is not a column")
                value = field.to_python(raw)
            except (FieldDoesNotExist, ValidationError, TypeError):
                raise NotFound(INVALID) from None
            fields.append((name.lstrip("-"), "lt" if name.startswith("-") else "gt", value))
        alternatives = [
            Q(**{f"{name}__{op}": value}, **{n: v for n, _, v in fields[:i]})
            for i, (name, op, value) in enumerate(fields)
        ]
        return reduce(lambda a, b: a | b, alternatives)

    def _key(self, row: object) -> list[str]:
        names = [name.lstrip("-") for name in self.ordering]
        if isinstance(row, dict):  # a `.values()` row
            return [str(row[name]) for name in names]
        return [str(getattr(row, name)) for name in names]

    def get_next_link(self) -> str | None:
        if self.last_key is None:
            return None
        cursor = base64.urlsafe_b64encode(json.dumps(self.last_key).encode()).decode()
        return replace_query_param(self.base_url, self.cursor_query_param, cursor)

    def get_paginated_response(self, data: Any) -> Response:
        return Response({"next": self.get_next_link(), "results": data})

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        return {
            "type": "object",
            "required": ["results"],
            "properties": {
                "next": {
                    "type": "string",
                    "nullable": True,
                    "format": "uri",
                    "description": "The next page, or null on the last one",
                },
                "results": schema,
            },
        }

    def get_schema_operation_parameters(self, view: APIView) -> list[dict[str, Any]]:
        return [
            {
                "name": self.cursor_query_param,
                "required": False,
                "in": "query",
                "description": "Where the page starts (from the `next` link)",
                "schema": {"type": "string"},
            },
            {
                "name": self.page_size_query_param,
                "required": False,
                "in": "query",
                "description": f"Rows per page (default {self.page_size}, at most {self.max_page_size})",
                "schema": {"type": "integer"},
            },
        ]

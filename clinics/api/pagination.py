"""Cursor pagination: a page costs the same wherever it is in a long list (no COUNT, no OFFSET
scan), and rows added meanwhile are neither skipped nor repeated."""

from django.core.exceptions import ValidationError
from rest_framework.exceptions import NotFound
from rest_framework.pagination import CursorPagination


class Pages(CursorPagination):
    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 500
    ordering = "-created_at"

    def get_ordering(self, request, queryset, view):
        """Each list's own order (`cursor_ordering` on the view): checks by due date, etc."""
        ordering = getattr(view, "cursor_ordering", self.ordering)
        return (ordering,) if isinstance(ordering, str) else tuple(ordering)

    def paginate_queryset(self, queryset, request, view=None):
        try:
            return super().paginate_queryset(queryset, request, view)
        except (ValidationError, ValueError, TypeError, OverflowError):  # a forged cursor
            raise NotFound(self.invalid_cursor_message) from None

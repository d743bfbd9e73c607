"""Django admin internals the staff UI relies on, fenced here: read this module before upgrading
Django."""

from __future__ import annotations

from typing import Any, NoReturn

from django.db.models.options import Options
from django.http import Http404, HttpRequest


class NotFoundInsteadOfRedirect:
    """Another clinic's row, or none at all, answers 404 as every other URL does. Django's admin
    redirects with a message instead, from its private `_get_obj_does_not_exist_redirect` (the
    override is what this relies on; tests/admin check the 404)."""

    def _get_obj_does_not_exist_redirect(
        self, request: HttpRequest, opts: Options[Any], object_id: str
    ) -> NoReturn:
        raise Http404

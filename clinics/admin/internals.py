"""Django admin internals the staff UI relies on, fenced here: read this module before upgrading
Django."""

from django.http import Http404


class NotFoundInsteadOfRedirect:
    """Another clinic's row, or none at all, answers 404 as every other URL does. Django's admin
    redirects with a message instead, from its private `_get_obj_does_not_exist_redirect` (the
    override is what this relies on; tests/admin check the 404)."""

    def _get_obj_does_not_exist_redirect(self, request, opts, object_id):
        raise Http404

"""A query string holding a NUL character is refused (400, naming the parameter): PostgreSQL
cannot compare text holding NUL, so a search or a filter with one would be a server error. Form
and JSON bodies are checked by their fields (Django's and DRF's text fields refuse NUL)."""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, JsonResponse


def refuse_nul_in_query(
    get_response: Callable[[HttpRequest], HttpResponse],
) -> Callable[[HttpRequest], HttpResponse]:
    def middleware(request: HttpRequest) -> HttpResponse:
        for name, values in request.GET.lists():
            if "\x00" in name or any("\x00" in value for value in values):
                # The API's error shape: {field: [messages]}.
                return JsonResponse({name: ["Null characters are not allowed."]}, status=400)
        return get_response(request)

    return middleware

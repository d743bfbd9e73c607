"""The WSGI application bench/feeds.py serves with gunicorn: the project's URLs plus a minimal
view at /bench/minimal.ics that returns the bytes of the file named by BENCH_FEED_BODY."""

import os
from pathlib import Path

from django.core.wsgi import get_wsgi_application
from django.http import HttpResponse
from django.urls import path

application = get_wsgi_application()

from django.conf import settings  # noqa: E402

from jakmonitor import urls as project_urls  # noqa: E402

BODY = Path(os.environ["BENCH_FEED_BODY"]).read_bytes()


def minimal(request):
    return HttpResponse(BODY, content_type="text/calendar; charset=utf-8")


urlpatterns = [path("bench/minimal.ics", minimal), *project_urls.urlpatterns]
settings.ROOT_URLCONF = __name__

"""The WSGI application bench/api.py serves with gunicorn: the project's URLs plus the baseline,
a DRF view at /bench/checks/ that answers with the JSON page in the file BENCH_API_PAGE, behind
the same authentication as the API."""

import json
import os
from pathlib import Path

from django.core.wsgi import get_wsgi_application

application = get_wsgi_application()

from django.conf import settings  # noqa: E402
from django.urls import path  # noqa: E402
from rest_framework.response import Response  # noqa: E402
from rest_framework.views import APIView  # noqa: E402

from clinics.api.permissions import IsStaff  # noqa: E402
from jakmonitor import urls as project_urls  # noqa: E402

PAGE = json.loads(Path(os.environ["BENCH_API_PAGE"]).read_text())


class PrebuiltChecks(APIView):
    permission_classes = [IsStaff]

    def get(self, request):
        return Response(PAGE)


urlpatterns = [path("bench/checks/", PrebuiltChecks.as_view()), *project_urls.urlpatterns]
settings.ROOT_URLCONF = __name__

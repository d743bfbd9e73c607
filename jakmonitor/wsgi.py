"""WSGI entry point (gunicorn jakmonitor.wsgi)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jakmonitor.settings")
application = get_wsgi_application()

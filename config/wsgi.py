"""WSGI entry point (gunicorn config.wsgi)."""

import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")
application = get_wsgi_application()

# What is loaded by now (Django, the apps, their modules) lives as long as the process. Frozen, it is left out of
# the collector's full passes, which otherwise walk it every few hundred requests and add tens of milliseconds to
# the request that triggers them (p99 here went from ~110-190 ms to ~45-100 ms in-process).
gc.collect()
gc.freeze()

"""How the catalog's long-lived processes (web workers, Celery workers, `manage.py ingest`) run Python."""

import gc
import logging
from pathlib import Path

from django.conf import settings

logger = logging.getLogger(__name__)


def freeze_loaded_objects() -> None:
    """Leave what is loaded by now (Django, the apps, their modules), which lives as long as the process, out of
    the garbage collector's full passes (gc.freeze, as Python's docs advise for long-lived processes)."""
    gc.collect()
    gc.freeze()


def warm_up() -> None:
    """Load, before a web worker takes its first request, what Django would otherwise load during it: the URL
    configuration with its reverse lookups, and the project's page templates, compiled. Called by config/wsgi.py
    before freeze_loaded_objects, so what it loads is frozen with the rest. Touches no database. A template or
    URL configuration that fails to load is logged and left for its request to fail on: one broken page must not
    stop the site."""
    from django.template.loader import get_template
    from django.urls import get_resolver

    try:
        _reverse_lookups(get_resolver())
    except Exception:
        logger.exception("warming up: the URL configuration did not load")
        return
    for name in _page_templates():
        try:
            get_template(name)
        except Exception:
            logger.exception("warming up: the template %s did not load", name)


def _reverse_lookups(resolver) -> None:
    """A resolver's reverse lookups and those of every namespace under it, built (Django builds each on its
    first reverse())."""
    resolver.reverse_dict  # noqa: B018 (the property builds them)
    for _, namespaced in resolver.namespace_dict.values():
        _reverse_lookups(namespaced)


def _page_templates() -> list[str]:
    """The templates in the project's template folders (TEMPLATES' DIRS), but the admin's: its pages are few
    and load the admin's own templates."""
    names = []
    for engine in settings.TEMPLATES:
        for folder in map(Path, engine.get("DIRS", [])):
            names += [
                path.relative_to(folder).as_posix()
                for path in sorted(folder.rglob("*.html"))
                if path.relative_to(folder).parts[0] != "admin"
            ]
    return names

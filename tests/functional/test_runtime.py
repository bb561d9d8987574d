"""How a web worker starts: what its first request would load is loaded before it (warm_up), and a page that
fails to load does not stop the worker."""

from __future__ import annotations

import logging

from config.runtime import warm_up

PAGE_TEMPLATES = {
    "base.html",
    "404.html",
    "500.html",
    "catalog/model_list.html",
    "catalog/model_detail.html",
    "catalog/name_index.html",
    "catalog/stats.html",
}


def _cached_template_names() -> set[str]:
    """The templates Django's cached loader holds compiled (the loader production runs)."""
    from django.template import engines

    (engine,) = engines.all()
    (loader,) = engine.engine.template_loaders
    return set(loader.get_template_cache)


def test_warm_up_compiles_the_page_templates_before_the_first_request() -> None:
    from django.template import engines

    (engine,) = engines.all()
    engine.engine.template_loaders[0].reset()
    assert not PAGE_TEMPLATES & _cached_template_names()
    warm_up()
    names = _cached_template_names()
    assert names >= PAGE_TEMPLATES
    assert not [name for name in names if name.startswith("admin/")]


def test_a_broken_template_is_logged_and_the_worker_still_starts(tmp_path, settings, caplog) -> None:
    (tmp_path / "fine.html").write_text("<p>{{ value }}</p>")
    (tmp_path / "broken.html").write_text("{% if %}never closed")
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [tmp_path]}]
    with caplog.at_level(logging.ERROR, logger="config.runtime"):
        warm_up()
    assert [r.getMessage() for r in caplog.records] == ["warming up: the template broken.html did not load"]
    assert _cached_template_names() >= {"fine.html"}


def test_a_url_configuration_that_fails_to_load_is_logged_and_the_worker_still_starts(
    settings, caplog
) -> None:
    settings.ROOT_URLCONF = "tests.no_such_urls"
    with caplog.at_level(logging.ERROR, logger="config.runtime"):
        warm_up()
    assert [r.getMessage() for r in caplog.records] == ["warming up: the URL configuration did not load"]

"""The WSGI application as the web server runs it (config/runtime.py ServedApplication): an answer lets go of what
it holds once the server has closed it, and what the first answers load is frozen out of the collector's way; what
a worker's first request would load is loaded before it (warm_up)."""

from __future__ import annotations

import gc
import io
import logging
import sys
from collections import Counter
from contextlib import contextmanager

import pytest
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.http import FileResponse, HttpResponse

from catalog.filters import ModelFilterSet
from catalog.models import Creator, Model
from catalog.pagination import Page
from config.runtime import ServedApplication, warm_up
from tests.factories import ModelFactory

KEPT_UNTIL_COLLECTED = (Model, Creator, ModelFilterSet, Page)


def environ(path: str, query: str = "") -> dict:
    return {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": "testserver",
        "REMOTE_ADDR": "127.0.0.1",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(b""),
        "wsgi.errors": sys.stderr,
    }


@contextmanager
def connections_left_open():
    """As a server calls the application, but leaving the test's database connection alone: Django closes a
    connection inside a transaction when a request starts and when its answer is closed (its test client does
    the same)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


ANSWERS = [
    ("/api/models/", "limit=20"),
    ("/api/models/", "query=lantern&limit=20"),
    ("/api/v1/models", "query=lantern&limit=20"),
    ("/", ""),
    ("/", "query=lantern"),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("path", "query"), ANSWERS)
def test_an_answer_leaves_none_of_its_models_for_the_garbage_collector(path: str, query: str) -> None:
    """Once the server has closed an answer, the models, rows and FilterSet it was made from are freed by their
    last reference going, not left in reference cycles for the collector to find during later requests:
    REST framework's answer and view, a list serializer and its child, a FilterSet and its filters, a
    template's context and its dicts each hold each other."""
    from config.wsgi import application

    for n in range(3):
        ModelFactory(name=f"Lantern {n}", slug=f"lantern-{n}")
    statuses: list[str] = []
    gc.collect()
    gc.disable()
    gc.set_debug(
        gc.DEBUG_SAVEALL
    )  # what a collection finds unreachable is kept in gc.garbage, to be looked at
    try:
        with connections_left_open():
            served = application(environ(path, query), lambda s, h, e=None: statuses.append(s))
            body = b"".join(served)
            served.close()
            del served
        gc.collect()
        left = Counter(type(o).__name__ for o in gc.garbage if type(o) in KEPT_UNTIL_COLLECTED)
        left["answer rows"] = sum(
            type(o) is dict and str(o.get("name")).startswith("Lantern") for o in gc.garbage
        )
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.enable()
    assert statuses == ["200 OK"]
    assert body.count(b"Lantern") >= 3
    assert +left == Counter()  # none of any kind


def _hello(environ, start_response):
    response = HttpResponse(b"hello")
    start_response(f"{response.status_code} OK", list(response.items()))
    return response


def test_what_the_first_answers_load_is_frozen_after_the_1st_and_10th() -> None:
    application = ServedApplication(_hello)
    gc.unfreeze()
    try:
        frozen_after = []
        for _ in range(12):
            before = gc.get_freeze_count()
            with connections_left_open():
                served = application(environ("/"), lambda s, h, e=None: None)
                assert b"".join(served) == b"hello"
                served.close()
            frozen_after.append(gc.get_freeze_count() > before)
        assert [n for n, frozen in enumerate(frozen_after, 1) if frozen] == [1, 10]
    finally:
        gc.unfreeze()


def test_a_file_the_server_sends_itself_reaches_it_as_its_own_type(tmp_path) -> None:
    class FileWrapper:
        def __init__(self, file, block_size=8192):
            self.file = file

    path = tmp_path / "a.txt"
    path.write_bytes(b"a file")

    def files(environ, start_response):
        start_response("200 OK", [])
        return environ["wsgi.file_wrapper"](FileResponse(path.open("rb")).file_to_stream)

    served = ServedApplication(files)(
        {**environ("/a.txt"), "wsgi.file_wrapper": FileWrapper}, lambda *a: None
    )
    assert isinstance(served, FileWrapper)
    assert served.file.read() == b"a file"
    served.file.close()


def test_an_answer_closed_twice_is_closed_once() -> None:
    application = ServedApplication(_hello)
    with connections_left_open():
        served = application(environ("/"), lambda s, h, e=None: None)
        assert b"".join(served) == b"hello"
        served.close()
        served.close()


PAGE_TEMPLATES = {
    "base.html",
    "404.html",
    "500.html",
    "catalog/model_list.html",
    "catalog/model_detail.html",
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

"""A kept database connection is checked before each request's first query (CONN_HEALTH_CHECKS) by looking at
its socket, not by a round trip (catalog/backends/postgresql/base.py): a connection the server ended must be
replaced before the request uses it, and a live one kept."""

from __future__ import annotations

import io
import sys
import time

import psycopg
import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.db import connection

from tests.factories import ModelFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]


def get(path: str) -> tuple[str, bytes]:
    """A request through Django's WSGI handler, with the request signals a server sends (the test client
    leaves out the connection handling that this is about)."""
    environ = {
        "REQUEST_METHOD": "GET", "PATH_INFO": path, "QUERY_STRING": "", "SERVER_NAME": "testserver",
        "SERVER_PORT": "80", "HTTP_HOST": "testserver", "REMOTE_ADDR": "127.0.0.1", "SERVER_PROTOCOL": "HTTP/1.1",
        "wsgi.input": io.BytesIO(b""), "wsgi.url_scheme": "http", "wsgi.errors": sys.stderr,
    }  # fmt: skip
    status: list[str] = []
    body = b"".join(WSGIHandler()(environ, lambda s, h, exc=None: status.append(s)))
    return status[0], body


def backend_pid() -> int:
    return connection.connection.info.backend_pid


def terminate(pid: int) -> None:
    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    with psycopg.connect(**params, autocommit=True) as admin:
        assert admin.execute("SELECT pg_terminate_backend(%s)", [pid]).fetchone()[0]
        for _ in range(100):
            if not admin.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", [pid]).fetchone():
                return
            time.sleep(0.02)
    raise AssertionError(f"backend {pid} did not go")


def test_a_live_connection_is_kept_from_request_to_request(settings) -> None:
    ModelFactory(name="Kept")
    assert settings.DATABASES["default"]["CONN_HEALTH_CHECKS"]
    assert get("/api/models/")[0] == "200 OK"
    pid = backend_pid()
    assert connection.is_usable()
    for _ in range(3):
        status, body = get("/api/models/")
        assert status == "200 OK" and b'"Kept"' in body
    assert backend_pid() == pid


def test_a_connection_the_server_ended_is_replaced_before_the_next_request_uses_it() -> None:
    ModelFactory(name="Still here")
    assert get("/api/models/")[0] == "200 OK"
    pid = backend_pid()
    terminate(pid)
    assert not connection.is_usable()
    status, body = get("/api/models/")
    assert status == "200 OK" and b'"Still here"' in body
    assert backend_pid() != pid
    assert connection.is_usable()


def test_a_closed_connection_is_not_usable() -> None:
    connection.ensure_connection()
    connection.connection.close()
    assert not connection.is_usable()
    connection.close()

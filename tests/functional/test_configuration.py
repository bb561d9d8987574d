"""The embedded default and the production profile, each started as a user would: manage.py in a subprocess."""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]


def manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    clean = {
        k: v
        for k, v in os.environ.items()
        if k
        not in ("DATABASE_URL", "CELERY_BROKER_URL", "DJANGO_SETTINGS_MODULE", "DJANGO_ALLOW_ASYNC_UNSAFE")
    }
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_embedded_default_needs_no_server(tmp_path) -> None:
    env = {"CATALOG_DATA_DIR": str(tmp_path)}
    migrated = manage("migrate", "--noinput", "-v0", env=env)
    assert migrated.returncode == 0, migrated.stderr
    assert "WARNINGS" not in migrated.stdout + migrated.stderr  # a first `make run` shows no warning
    loaded = manage("load_sample", env=env)
    assert loaded.returncode == 0, loaded.stderr
    assert "Loaded the sample catalog: 5 models created" in loaded.stdout
    assert (tmp_path / "catalog.sqlite3").is_file()
    assert list((tmp_path / "media" / "images" / "thumbnail").glob("*.webp"))
    admin = manage("ensure_admin", env=env)
    assert "Admin login created: username admin, password " in admin.stdout
    assert "password:" in (tmp_path / "admin-credentials.txt").read_text()
    shell = manage(
        "shell", "-c", "from django.conf import settings; print(settings.CELERY_TASK_ALWAYS_EAGER)", env=env
    )
    assert shell.stdout.strip().splitlines()[-1] == "True"


def test_production_profile_passes_check_deploy(tmp_path) -> None:
    env = {
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "SECRET_KEY": "k" * 10 + "a-long-random-production-secret-key-0123456789-xyz",
        "ALLOWED_HOSTS": "catalog.example.org",
        "CATALOG_DATA_DIR": str(tmp_path),
    }
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_profile_refuses_to_start_without_a_secret_key(tmp_path) -> None:
    env = {
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "ALLOWED_HOSTS": "x",
        "CATALOG_DATA_DIR": str(tmp_path),
    }
    result = manage("check", env=env)
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


@pytest.mark.postgres
@pytest.mark.django_db
def test_postgresql_configuration_is_in_use() -> None:
    assert connection.vendor == "postgresql"
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        assert cursor.fetchone()[0]


def test_gunicorn_config_serves_the_catalog_over_kept_open_connections(tmp_path) -> None:
    """The Dockerfile's and the compose file's server, started as they start it (config/gunicorn.conf.py): three
    requests on one connection, each answered, and the connection still the same one afterwards."""
    env = {"CATALOG_DATA_DIR": str(tmp_path)}
    assert manage("migrate", "--noinput", "-v0", env=env).returncode == 0
    assert manage("load_sample", env=env).returncode == 0
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    clean = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DJANGO_SETTINGS_MODULE")}
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "config/gunicorn.conf.py", "config.wsgi",
         "--bind", f"127.0.0.1:{port}", "--workers", "1"],
        cwd=ROOT, env={**clean, **env}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert server.poll() is None and time.monotonic() < deadline, "gunicorn did not start"
                time.sleep(0.2)
        connection_ = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        sockets = []
        for path in ("/api/models/", "/api/models/?query=anime", "/api/v1/models?limit=2"):
            connection_.request("GET", path)
            response = connection_.getresponse()
            body = json.loads(response.read())
            assert response.status == 200, (path, body)
            assert response.getheader("Connection", "").lower() != "close"
            sockets.append(connection_.sock)
        assert sockets[0] is not None and sockets == [sockets[0]] * 3  # never closed, never reopened
        assert len(body["items"]) == 2 and body["metadata"]["totalItems"] == 5
        connection_.close()
    finally:
        server.terminate()
        output = server.communicate(timeout=30)[0]
    assert "Using worker: gthread" in output, output[-2000:]
    assert '"GET /api/v1/models?limit=2 HTTP/1.1" 200' in output  # the access log, on standard output

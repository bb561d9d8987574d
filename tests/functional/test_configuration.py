"""The embedded default and the production profile, each started as a user would: manage.py in a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
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
    assert manage("migrate", "--noinput", "-v0", env=env).returncode == 0
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

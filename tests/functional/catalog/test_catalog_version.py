"""Whatever process ingests or curates, every page shows the change at once: the catalog's version lives in the
database, not in one process's memory (the embedded default's cache is per process)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

from catalog.models import CatalogVersion
from catalog.selectors import catalog_version
from catalog.services import catalog_changed
from tests.conftest import CORPUS
from tests.factories import ModelFactory

ROOT = Path(__file__).resolve().parents[3]
PAGE = CORPUS / "mirror-pages" / "Checkpoint.rank-02594.dl-362.rating-1.5.Moto_Rider.json"


def type_count(html: str, value: str) -> str:
    start = html.index(f'name="type" value="{value}"')
    return html[start : start + 200].split('<span class="n">', 1)[1].split("<", 1)[0]


@pytest.mark.django_db
def test_a_change_moves_the_version_in_the_database() -> None:
    before = catalog_version()  # no row yet on a new catalog: version 0
    catalog_changed()
    catalog_changed()
    assert CatalogVersion.objects.get().version == catalog_version() == before + 2


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_an_ingest_by_another_process_shows_on_the_next_page(client) -> None:
    for _ in range(3):
        ModelFactory(type="LORA")
    html = client.get("/").content.decode()
    assert type_count(html, "LORA") == "3" and 'value="Checkpoint"' not in html
    assert (
        type_count(client.get("/").content.decode(), "LORA") == "3"
    )  # counted once, then kept in this process
    db = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}",
    }
    done = subprocess.run(
        [sys.executable, "manage.py", "ingest", str(PAGE), "--no-progress"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    html = client.get("/").content.decode()
    assert type_count(html, "Checkpoint") == "1"  # the other process's model, counted at once
    assert '<p class="count">4 models</p>' in html

"""Shared fixtures: the corpus beside the checkout, and records built from it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.db import connection

CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus"


@pytest.fixture(scope="session")
def corpus() -> Path:
    """../shared/corpus: real Civitai and HuggingFace data. It lies beside the checkout on every machine."""
    if not CORPUS.is_dir():
        pytest.fail(f"the corpus is not at {CORPUS}: tests read it from beside the checkout")
    return CORPUS


@pytest.fixture
def mirror_pages(corpus: Path) -> list[Path]:
    return sorted((corpus / "mirror-pages").glob("*.md"))


def load_json(path: Path) -> object:
    return json.loads(path.read_text())


def pytest_collection_modifyitems(config, items):
    """Tests marked postgres run only when the suite runs on PostgreSQL."""
    from django.conf import settings

    on_postgres = "postgresql" in settings.DATABASES["default"]["ENGINE"]
    skip = pytest.mark.skip(reason="needs PostgreSQL (DATABASE_URL=postgres://...)")
    for item in items:
        if "postgres" in item.keywords and not on_postgres:
            item.add_marker(skip)


@pytest.fixture
def vendor() -> str:
    return connection.vendor

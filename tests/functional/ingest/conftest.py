"""Fixtures of the ingest tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.catalog_state import corpus_lines


@pytest.fixture
def corpus_sources(corpus: Path, tmp_path: Path) -> list[str]:
    """300 real model objects, the mirror pages with their JSON twins, and the HuggingFace models."""
    lines = corpus_lines(corpus)[:300]
    part = tmp_path / "part.jsonl"
    part.write_bytes(b"\n".join(lines))
    return [str(part), str(corpus / "mirror-pages"), str(corpus / "huggingface")]

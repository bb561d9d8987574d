"""A catalog of N models built from the real Civitai records in the corpus, replicated with new ids.

Each replica of a corpus model keeps its text, tags, creator, versions, files and generation metadata, so the
distributions stay real; it gets new Civitai ids, new (deterministic) file hashes, and a name with one more
word drawn from the corpus's own model names. Every other sample image is kept, which gives about six images
per model (the corpus has about thirteen). Rows go in through the catalog's own batched writer, which inserts
new models with COPY on PostgreSQL.
"""

from __future__ import annotations

import dataclasses
import hashlib
import random
import time
from collections.abc import Callable
from pathlib import Path

from ingest.parsers.documents import parse_document
from ingest.records import FileRecord, ImageRecord, ModelRecord, VersionRecord

ID_STRIDE = (
    100_000_000  # replica k takes ids k * ID_STRIDE + the corpus id; k >= 1 leaves the corpus's own free
)
BATCH = 1000


def corpus_records(corpus: Path) -> list[ModelRecord]:
    """The corpus's Civitai model objects, parsed by the catalog's own parser."""
    path = corpus / "civitai" / "checkpoints-2023-07-04.jsonl.gz"
    records = [r for _, r in parse_document(path.read_bytes(), name=str(path)) if isinstance(r, ModelRecord)]
    if not records:
        raise SystemExit(f"no model records in {path}")
    return records


def _hex(seed: str, length: int) -> str:
    return hashlib.sha256(seed.encode()).hexdigest()[:length].upper()


def _file(file: FileRecord, offset: int, replica: int) -> FileRecord:
    hashes = {}
    if file.hashes:
        sha = _hex(f"{replica}:{file.hashes.get('hash_sha256') or file.name}:{file.civitai_id}", 64)
        lengths = {"hash_sha256": 64, "hash_autov1": 8, "hash_autov3": 12, "hash_crc32": 8, "hash_blake3": 64}
        for name in file.hashes:
            hashes[name] = sha[:10] if name == "hash_autov2" else _hex(f"{name}:{sha}", lengths.get(name, 64))
    return dataclasses.replace(
        file, civitai_id=file.civitai_id + offset if file.civitai_id else None, hashes=hashes
    )


def _image(image: ImageRecord, offset: int) -> ImageRecord:
    return dataclasses.replace(image, civitai_id=image.civitai_id + offset if image.civitai_id else None)


def _version(version: VersionRecord, offset: int, replica: int) -> VersionRecord:
    return dataclasses.replace(
        version,
        civitai_id=version.civitai_id + offset if version.civitai_id else None,
        files=tuple(_file(f, offset, replica) for f in version.files),
        images=tuple(_image(i, offset) for i in version.images[::2]),
    )


def replica(record: ModelRecord, replica: int, word: str) -> ModelRecord:
    """Copy `replica` (1, 2, ...) of a corpus model: new ids and hashes, one more word in its name."""
    offset = replica * ID_STRIDE
    civitai_id = (record.civitai_id or 0) + offset
    return dataclasses.replace(
        record,
        civitai_id=civitai_id,
        source_key=str(civitai_id),
        source_url=f"https://civitai.com/api/v1/models/{civitai_id}",
        name=f"{record.name} {word}"[:255],
        versions=tuple(_version(v, offset, replica) for v in record.versions),
    )


def build(
    records: list[ModelRecord],
    total: int,
    *,
    start: int = 0,
    progress: Callable[[int], None] | None = None,
) -> float:
    """Write models number `start` to `total` - 1 of the benchmark catalog; returns the seconds it took."""
    from ingest.writer import models_upsert

    rng = random.Random(20261125)
    words = [w for r in records for w in r.name.split() if w.isalpha() and len(w) > 2]
    began = time.perf_counter()
    batch: list[tuple[ModelRecord, None]] = []
    for number in range(start, total):
        base = records[number % len(records)]
        rng.seed(number)
        batch.append((replica(base, number // len(records) + 1, rng.choice(words)), None))
        if len(batch) == BATCH or number == total - 1:
            results = models_upsert(batch)
            failed = [r for r in results if isinstance(r, Exception)]
            if failed:
                raise SystemExit(f"the benchmark catalog could not be written: {failed[0]}")
            batch = []
            if progress:
                progress(number + 1)
    return time.perf_counter() - began

"""The pipeline of an ingest run: what a user names (a file, a folder, a URL, an id, an upload) is fetched,
parsed and written, batch by batch, each outcome recorded on the run."""

from __future__ import annotations

import logging
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode

from django.conf import settings
from django.core.files.storage import default_storage

from catalog.models import IngestRun
from ingest import restore, runs, writer
from ingest.errors import FetchError, IngestError, ParseError
from ingest.parsers.documents import Item, Parsed, Record, document_items
from ingest.parsers.mirror import mirror_type_from_path
from ingest.records import ModelRecord, RestoreRecord

logger = logging.getLogger(__name__)

FILE_SUFFIXES = (".json", ".jsonl", ".gz", ".md", ".info")
MAX_FILE_BYTES = 1024**3
CRAWL_PREFIX = "crawl:"


def source_files(path: Path) -> list[Path]:
    """A file, or every ingestible file below a folder, in a stable order. A README.md beside a JSON file is
    that repo's model card: it is read with the JSON, not on its own."""
    if not path.is_dir():
        return [path]
    return sorted(
        p
        for p in path.rglob("*")
        if p.is_file() and p.name.lower().endswith(FILE_SUFFIXES) and not _is_card(p)
    )


def _is_card(path: Path) -> bool:
    return path.name == "README.md" and any(path.parent.glob("*.json"))


def _card_beside(path: Path) -> bytes | None:
    """A HuggingFace model card lying beside a model-info JSON (README.md in the same folder)."""
    readme = path.with_name("README.md")
    return readme.read_bytes() if path.suffix == ".json" and readme.is_file() else None


def parse_source(source: str, *, model_type: str | None = None, local_files: bool = True) -> Iterator[Parsed]:
    """Every record one source yields, or the error that source met."""
    for item in source_items(source, model_type=model_type, local_files=local_files):
        yield item.label, item.parse()


def remote_source_check(source: str) -> None:
    """Raise FetchError unless `source` is what the API and the admin take: a Civitai or HuggingFace URL or id.
    Paths on the server are for manage.py ingest alone, run by someone at the server."""
    from ingest.fetchers import classify_source

    try:
        classify_source(source)
    except FetchError as exc:
        if source.startswith(("/", "./", "../", "~", "\\")) or Path(source).exists():
            raise FetchError(
                source,
                "a path on the server: only manage.py ingest, run at the server, reads files; "
                "give a Civitai or HuggingFace URL or id, or upload the file in the admin",
            ) from None
        raise exc


def source_items(source: str, *, model_type: str | None = None, local_files: bool = False) -> Iterator[Item]:
    """Every item one source yields, parsed when asked (local files), or parsed already (fetched pages). Paths
    on the server are read only for a run that may read them (`local_files`: manage.py ingest)."""
    if source.startswith(UPLOAD_PREFIX):
        yield from _parse_upload(source[len(UPLOAD_PREFIX) :], model_type)
        return
    path = Path(source)
    if local_files and path.exists():
        for file in source_files(path):
            size = file.stat().st_size
            if size > MAX_FILE_BYTES:
                error = ParseError(str(file), f"larger than {MAX_FILE_BYTES} bytes")
                yield Item(str(file), None, lambda error=error: error)
                continue
            # A JSON twin of a mirror page is a Civitai model object; the page itself is the .md.
            yield from document_items(
                file.read_bytes(),
                name=str(file),
                model_type=model_type or mirror_type_from_path(str(file))[0],
                card=_card_beside(file),
                civitai_base_url=settings.CIVITAI_BASE_URL,
                hf_endpoint=settings.HF_ENDPOINT,
            )
        return
    from ingest import fetchers  # network code only when a source is not a local file

    if source.startswith(CRAWL_PREFIX):
        provider, _, query = source[len(CRAWL_PREFIX) :].partition("?")
        params = {k: v if len(v) > 1 else v[0] for k, v in parse_qs(query).items()}
        limit = params.pop("max", None)
        crawl = {"civitai": fetchers.crawl_civitai, "huggingface": fetchers.crawl_huggingface}.get(provider)
        if crawl is None:
            raise FetchError(source, f"unknown provider {provider!r}: civitai or huggingface")
        with fetchers.Fetcher() as fetcher:
            for label, parsed in crawl(fetcher, params, limit=int(limit) if isinstance(limit, str) else None):
                yield Item(label, None, lambda parsed=parsed: parsed)
        return
    if not local_files:
        remote_source_check(source)  # a path is refused saying why, not fetched as a HuggingFace id
    for label, parsed in fetchers.fetch_source(source):
        yield Item(label, None, lambda parsed=parsed: parsed)


def _parse_upload(name: str, model_type: str | None) -> Iterator[Item]:
    """A file uploaded through the admin, kept in media storage until its run is done."""
    from django.core.files.storage import default_storage

    if not name.startswith("ingest-uploads/") or ".." in name.split("/"):
        raise FetchError(name, "not an uploaded file")
    if not default_storage.exists(name):
        raise FetchError(name, "the uploaded file is gone")
    with default_storage.open(name, "rb") as upload:
        raw = upload.read(MAX_FILE_BYTES + 1)
    if len(raw) > MAX_FILE_BYTES:
        raise ParseError(name, f"larger than {MAX_FILE_BYTES} bytes")
    display = name.split("/", 2)[-1]
    yield from document_items(
        raw,
        name=display,
        model_type=model_type or mirror_type_from_path(display)[0],
        civitai_base_url=settings.CIVITAI_BASE_URL,
        hf_endpoint=settings.HF_ENDPOINT,
    )


def crawl_source(provider: str, params: dict[str, str | list[str]], limit: int | None) -> str:
    """A crawl as a source string an ingest run can carry (and a worker can redo)."""
    query = urlencode({**params, **({"max": str(limit)} if limit else {})}, doseq=True)
    return f"{CRAWL_PREFIX}{provider}?{query}"


def _mark_gone(source: str, status: int) -> None:
    """The source answered 404/410 (or 401 for HuggingFace): the model is marked removed, its data kept."""
    from ingest.fetchers import classify_source

    try:
        kind, key = classify_source(source)
    except IngestError:
        return
    if kind == "civitai-model" and status != 401:  # Civitai's 401 asks for a token; the model is there
        writer.model_mark_gone(civitai_id=int(key), status=status)
    elif kind == "huggingface":
        writer.model_mark_gone(hf_repo_id=key, status=status)


def ingest_run_execute(
    run: IngestRun, *, progress: Callable[[str, str], None] | None = None, interrupted_by: str = ""
) -> IngestRun:
    """Ingest every source of a run in this process, recording each outcome and each failure on the run.
    Items are written in batches: unchanged ones are skipped by their digest before they are parsed, and new
    models are inserted together. A batch is parsed on a helper thread while the one before it is written."""
    runs.ingest_run_start(run, interrupted_by=interrupted_by)
    model_type = run.model_type or None
    batch: list[Item] = []
    with _BatchPipeline(run, progress) as pipeline:
        for source in run.sources:
            try:
                for item in source_items(source, model_type=model_type, local_files=run.local_files):
                    batch.append(item)
                    if len(batch) >= settings.INGEST_BATCH_SIZE:
                        pipeline.add(batch)
                        batch = []
            except IngestError as exc:
                pipeline.add(batch)  # what the source gave before its error
                batch = []
                pipeline.flush()  # the run's failures in the order the sources met them
                if isinstance(exc, FetchError) and exc.status in (401, 404, 410):
                    _mark_gone(source, exc.status)  # whoever asked: an ingest, a sync or a re-sync
                runs.ingest_run_fail_item(run.pk, exc.source, exc.message)
                if progress:
                    progress(source, "failed")
        pipeline.add(batch)
    return runs.ingest_run_finish(run)


class _BatchPipeline:
    """Batches of items, each parsed on one helper thread while the batch before it is written here: the
    parsers are pure Python, and the writer spends much of its time waiting on the database, when the helper
    runs. Batches are written in the order they came, on this thread's connection."""

    def __init__(self, run: IngestRun, progress: Callable[[str, str], None] | None) -> None:
        self.run, self.progress = run, progress
        self.pending: Future[list[tuple[Item, Record | ParseError | None]]] | None = None

    def __enter__(self) -> _BatchPipeline:
        self.helper = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ingest-parse")
        return self

    def __exit__(self, exc_type: type[BaseException] | None, *_: object) -> None:
        try:
            if exc_type is None:
                self.flush()
            elif issubclass(exc_type, Exception) and self.pending is not None:
                # A source failed after this batch was read whole: it is written, as it would have been before
                # the source went on without the helper. The source's error is the one that propagates.
                try:
                    self.flush()
                except Exception:
                    logger.exception("writing the batch read before a %s failed", exc_type.__name__)
        finally:
            self.helper.shutdown(wait=True, cancel_futures=True)

    def add(self, items: list[Item]) -> None:
        """Start parsing a batch (the items the catalog does not have by their digest), and write the one
        before it meanwhile."""
        if not items:
            return
        known = runs.digests_known([item.digest for item in items if item.digest])
        parsing = self.helper.submit(_parse_batch, items, known)
        self.flush()
        self.pending = parsing

    def flush(self) -> None:
        """Write the batch being parsed, once it is."""
        if self.pending is not None:
            pending, self.pending = self.pending, None
            _write_batch(self.run, pending.result(), self.progress)


def _parse_batch(items: list[Item], known: set[str]) -> list[tuple[Item, Record | ParseError | None]]:
    """Each item with its record, or None for an item known by its digest (unchanged). Pure: no database."""
    return [(item, None if item.digest and item.digest in known else item.parse()) for item in items]


def _write_batch(
    run: IngestRun,
    parsed_items: list[tuple[Item, Record | ParseError | None]],
    progress: Callable[[str, str], None] | None,
) -> None:
    """Write one parsed batch and add its outcomes to the run (a few queries, not a few per item)."""
    outcomes: list[tuple[str, str]] = []
    failures: list[tuple[str, str]] = []
    warnings: list[tuple[str, str]] = []
    models: list[tuple[str, ModelRecord, str | None]] = []
    restores: dict[int, dict] = {}  # index in models -> what the catalog's own export adds to the record
    for item, parsed in parsed_items:
        if parsed is None:
            outcomes.append((item.label, writer.UNCHANGED))
        elif isinstance(parsed, IngestError):
            failures.append((item.label, parsed.message))
        elif isinstance(parsed, ModelRecord):
            models.append((item.label, parsed, item.digest))
        elif isinstance(parsed, RestoreRecord):
            restores[len(models)] = parsed.extras
            models.append((item.label, parsed.record, item.digest))
        else:
            try:
                outcomes.append((item.label, writer.record_write(parsed).outcome))
            except Exception as exc:
                if writer.connection_lost(exc):
                    raise
                logger.exception("writing %s failed", item.label)
                failures.append((item.label, f"could not be written: {type(exc).__name__}: {exc}"))
    results = writer.models_upsert([(record, digest) for _, record, digest in models])
    for i, ((label, _, _), result) in enumerate(zip(models, results, strict=True)):
        if not isinstance(result, Exception) and i in restores:
            try:
                restore.model_restore_extras(result.model_id, restores[i])
            except Exception as exc:
                if writer.connection_lost(exc):
                    raise
                logger.exception("restoring %s failed", label)
                result = exc
        if isinstance(result, Exception):
            # One bad model does not stop the run; its transaction rolled back, so nothing is half-written.
            failures.append((label, f"could not be written: {type(result).__name__}: {result}"))
        else:
            outcomes.append((label, result.outcome))
            warnings.extend(
                (label, warning) for version in models[i][1].versions for warning in version.warnings
            )
    for outcome, n in Counter(outcome for _, outcome in outcomes).items():
        runs.ingest_run_count(run.pk, outcome, n)
    runs.ingest_run_fail_items(run.pk, failures)
    runs.ingest_run_warn_items(run.pk, warnings)
    if progress:
        for label, outcome in outcomes:
            progress(label, outcome)
        for label, _ in failures:
            progress(label, "failed")


UPLOAD_PREFIX = "upload:"


def uploads_save(files: list[Any]) -> list[str]:
    """Keep uploaded files in media storage for the worker; return them as sources ("upload:<storage name>")."""

    sources = []
    folder = f"ingest-uploads/{uuid.uuid4().hex}"
    for upload in files:
        name = default_storage.save(f"{folder}/{Path(upload.name).name}", upload)
        sources.append(f"{UPLOAD_PREFIX}{name}")
    return sources

"""Turn what a user names (a file, a folder, a URL, an id) into parsed records, and run them through the writer."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlencode

from django.conf import settings

from catalog.models import IngestRun
from ingest import services
from ingest.errors import FetchError, IngestError, ParseError
from ingest.parsers.documents import Parsed, parse_document
from ingest.parsers.mirror import mirror_type_from_path

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


def parse_source(source: str, *, model_type: str | None = None) -> Iterator[Parsed]:
    """Every record one source yields, or the error that source met."""
    if source.startswith(services.UPLOAD_PREFIX):
        yield from _parse_upload(source[len(services.UPLOAD_PREFIX) :], model_type)
        return
    path = Path(source)
    if path.exists():
        for file in source_files(path):
            size = file.stat().st_size
            if size > MAX_FILE_BYTES:
                yield str(file), ParseError(str(file), f"larger than {MAX_FILE_BYTES} bytes")
                continue
            # A JSON twin of a mirror page is a Civitai model object; the page itself is the .md.
            yield from parse_document(
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
            yield from crawl(fetcher, params, limit=int(limit) if isinstance(limit, str) else None)
        return
    yield from fetchers.fetch_source(source)


def _parse_upload(name: str, model_type: str | None) -> Iterator[Parsed]:
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
    yield from parse_document(
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
    if kind == "civitai-model":
        services.model_mark_gone(civitai_id=int(key), status=status)
    elif kind == "huggingface":
        services.model_mark_gone(hf_repo_id=key, status=status)


def ingest_run_execute(run: IngestRun, *, progress: Callable[[str, str], None] | None = None) -> IngestRun:
    """Ingest every source of a run in this process, recording each outcome and each failure on the run."""
    services.ingest_run_start(run)
    model_type = run.model_type or None
    for source in run.sources:
        try:
            for label, parsed in parse_source(source, model_type=model_type):
                outcome = _write(run, label, parsed)
                if progress:
                    progress(label, outcome)
        except IngestError as exc:
            if (
                isinstance(exc, FetchError)
                and exc.status in (401, 404, 410)
                and run.kind in ("sync", "resync")
            ):
                _mark_gone(source, exc.status)
            services.ingest_run_fail_item(run.pk, exc.source, exc.message)
            if progress:
                progress(source, "failed")
    return services.ingest_run_finish(run)


def _write(run: IngestRun, label: str, parsed: ParseError | object) -> str:
    if isinstance(parsed, IngestError):
        services.ingest_run_fail_item(run.pk, label, parsed.message)
        return "failed"
    try:
        result = services.record_write(parsed)  # type: ignore[arg-type]
    except Exception as exc:
        # One bad model must not stop the run; the transaction rolled back, so nothing is half-written.
        logger.exception("writing %s failed", label)
        services.ingest_run_fail_item(run.pk, label, f"could not be written: {type(exc).__name__}: {exc}")
        return "failed"
    services.ingest_run_count(run.pk, result.outcome)
    return result.outcome

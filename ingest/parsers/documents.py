"""Recognise what a file holds and hand it to its parser: Civitai JSON of any shape, JSON Lines (plain or
gzipped), HuggingFace model info, a model card, or a Markdown mirror page."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from catalog import sanitize
from ingest.errors import ParseError
from ingest.parsers.civitai import (
    civitai_parse_creator,
    civitai_parse_gallery_image,
    civitai_parse_model,
    civitai_parse_tag,
    civitai_parse_version_payload,
)
from ingest.parsers.export import export_parse_line, is_export_line
from ingest.parsers.huggingface import hf_parse_model, hf_repo_id_valid
from ingest.parsers.mirror import OVERVIEW_HEADING, mirror_parse_page
from ingest.records import CreatorRecord, ImageRecord, ModelRecord, RestoreRecord, TagRecord

Record = ModelRecord | CreatorRecord | TagRecord | ImageRecord | RestoreRecord

MAX_DECOMPRESSED_BYTES = 2 * 1024**3
MAX_LINE_BYTES = 64 * 1024 * 1024
README_NAME = re.compile(r"^README_([A-Za-z0-9][A-Za-z0-9.-]*)_(.+)\.md$")

# What parse_document yields: the input it read (a name, or name:line) and a record or the error it met.
Parsed = tuple[str, Record | ParseError]

# The parsers' own code, hashed: an item's digest changes when the code that reads it changes, so a re-ingest
# skips an unchanged item only when parsing it again would give the same record.
_HERE = Path(__file__).parent
PARSERS_DIGEST = hashlib.sha256(
    b"".join(
        p.read_bytes()
        for p in [*sorted(_HERE.glob("*.py")), _HERE.parent / "records.py", Path(sanitize.__file__)]
    )
).hexdigest()


@dataclass(frozen=True)
class Item:
    """One item of a document, not parsed yet: its label, a digest of its raw bytes and of everything else its
    record depends on (None when it has none), and how to parse it. The writer skips an item whose digest it
    stored before without parsing it."""

    label: str
    digest: str | None
    parse: Callable[[], Record | ParseError]


def item_digest(*parts: bytes | str | None) -> str:
    """SHA-256 of an item's raw bytes with the parsers' digest and the options that shape its record."""
    h = hashlib.sha256(PARSERS_DIGEST.encode())
    for part in parts:
        h.update(b"\0")
        if part is not None:
            h.update(part.encode() if isinstance(part, str) else part)
    return h.hexdigest()


def _ready(label: str, value: Record | ParseError) -> Item:
    return Item(label, None, lambda: value)


def parse_document(
    raw: bytes,
    *,
    name: str,
    model_type: str | None = None,
    card: bytes | None = None,
    civitai_base_url: str = "https://civitai.com",
    hf_endpoint: str = "https://huggingface.co",
) -> Iterator[Parsed]:
    """Every model in one file. A bad item yields its ParseError and the rest go on."""
    for item in document_items(
        raw,
        name=name,
        model_type=model_type,
        card=card,
        civitai_base_url=civitai_base_url,
        hf_endpoint=hf_endpoint,
    ):
        yield item.label, item.parse()


def document_items(
    raw: bytes,
    *,
    name: str,
    model_type: str | None = None,
    card: bytes | None = None,
    civitai_base_url: str = "https://civitai.com",
    hf_endpoint: str = "https://huggingface.co",
) -> Iterator[Parsed]:
    """Every item of one file, to parse one at a time (parse_document parses them all)."""
    lower = name.lower()
    if raw[:2] == b"\x1f\x8b":
        yield from _json_lines(_gunzip(raw, name), name, civitai_base_url)
        return
    if lower.endswith(".md"):
        digest = item_digest(raw, model_type, hf_endpoint, name.replace("\\", "/").rsplit("/", 1)[-1])
        yield Item(name, digest, lambda: _markdown(raw, name, model_type, hf_endpoint))
        return
    if lower.endswith(".jsonl"):
        yield from _json_lines(io.BytesIO(raw), name, civitai_base_url)
        return
    try:
        data = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        yield _ready(name, ParseError(name, f"not JSON: {_short(exc)}"))
        return
    for label, parsed in parse_json(
        data, name=name, card=card, civitai_base_url=civitai_base_url, hf_endpoint=hf_endpoint
    ):
        yield _ready(label, parsed)


def parse_json(
    data: Any,
    *,
    name: str,
    card: bytes | None = None,
    civitai_base_url: str = "https://civitai.com",
    hf_endpoint: str = "https://huggingface.co",
) -> Iterator[Parsed]:
    """One JSON document of any supported shape."""
    if isinstance(data, dict) and isinstance(data.get("items"), list) and "metadata" in data:
        for i, item in enumerate(data["items"]):
            label = f"{name}:items[{i}]"
            yield label, _civitai_one(item, label, civitai_base_url)
        return
    if isinstance(data, list):
        for i, item in enumerate(data):
            label = f"{name}[{i}]"
            yield label, _civitai_one(item, label, civitai_base_url)
        return
    if isinstance(data, dict) and _looks_huggingface(data):
        yield name, _catch(lambda: hf_parse_model(data, source=name, card=card, endpoint=hf_endpoint))
        return
    yield name, _civitai_one(data, name, civitai_base_url)


def _civitai_one(data: Any, label: str, base_url: str) -> Record | ParseError:
    if not isinstance(data, dict):
        return ParseError(label, f"expected a JSON object, got {type(data).__name__}")
    if is_export_line(data):
        return _catch(lambda: export_parse_line(data, source=label))
    if "modelVersions" in data:
        return _catch(lambda: civitai_parse_model(data, source=label, base_url=base_url))
    if "modelId" in data or ("model" in data and "files" in data):
        return _catch(lambda: civitai_parse_version_payload(data, source=label, base_url=base_url))
    # Items of /creators, /tags and /images.
    if "username" in data and "link" in data and "url" not in data:
        return _catch(lambda: civitai_parse_creator(data, source=label))
    if "name" in data and "link" in data:
        return _catch(lambda: civitai_parse_tag(data, source=label))
    if "url" in data and ("postId" in data or "meta" in data or "nsfwLevel" in data):
        return _catch(lambda: civitai_parse_gallery_image(data, source=label))
    return ParseError(
        label,
        "not a recognised payload: expected a Civitai model (modelVersions), a model version (modelId), "
        "a /models list (items), or HuggingFace model info (id owner/name)",
    )


def _looks_huggingface(data: dict) -> bool:
    repo = data.get("id") if isinstance(data.get("id"), str) else data.get("modelId")
    return "_id" in data or "siblings" in data or (isinstance(repo, str) and "/" in repo)


def _markdown(raw: bytes, name: str, model_type: str | None, hf_endpoint: str) -> ModelRecord | ParseError:
    head = raw[:4096].decode("utf-8", "replace")
    if OVERVIEW_HEADING in head:
        return _catch(lambda: mirror_parse_page(raw, source=name, model_type=model_type))
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    match = README_NAME.match(base)
    if match and hf_repo_id_valid(f"{match.group(1)}/{match.group(2)}"):
        repo_id = f"{match.group(1)}/{match.group(2)}"
        return _catch(lambda: hf_parse_model({"id": repo_id}, source=name, card=raw, endpoint=hf_endpoint))
    return ParseError(
        name,
        "not a mirror page (no '### 一、模型概述' heading) nor a model card named README_<owner>_<repo>.md",
    )


def _json_lines(stream: io.BufferedIOBase | gzip.GzipFile, name: str, base_url: str) -> Iterator[Item]:
    total = 0
    try:
        for number, line in enumerate(stream, start=1):
            total += len(line)
            if total > MAX_DECOMPRESSED_BYTES:
                yield _ready(
                    name, ParseError(name, f"larger than {MAX_DECOMPRESSED_BYTES} bytes once decompressed")
                )
                return
            line = line.strip()
            if not line:
                continue
            label = f"{name}:{number}"
            if len(line) > MAX_LINE_BYTES:
                yield _ready(label, ParseError(label, f"line longer than {MAX_LINE_BYTES} bytes"))
                continue
            yield Item(
                label,
                item_digest(line, base_url),
                lambda line=line, label=label: _json_line(line, label, base_url),
            )
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        yield _ready(name, ParseError(name, f"broken gzip stream: {_short(exc)}"))


def _json_line(line: bytes, label: str, base_url: str) -> Record | ParseError:
    try:
        data = json.loads(line)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        return ParseError(label, f"not JSON: {_short(exc)}")
    return _civitai_one(data, label, base_url)


def _gunzip(raw: bytes, name: str) -> gzip.GzipFile:
    return gzip.GzipFile(fileobj=io.BytesIO(raw), mode="rb")


def _catch(parse: Any) -> Record | ParseError:
    try:
        return parse()
    except ParseError as exc:
        return exc
    except RecursionError:
        return ParseError("input", "nested too deeply")


def _short(exc: BaseException) -> str:
    return str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__

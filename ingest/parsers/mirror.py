"""Markdown mirror pages of Civitai models (the grammar in ../shared/corpus/README.md) into records.

A page never states its type, creator, hashes, sizes or model id. The type comes from the file name
(`<Type>.rank-...md` or `[<Type>].[排名：...].md`) or a `models/<Type>/<normal|nsfw>/` folder; the version ids
come from the download URLs; image ids from the image URLs.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import PurePosixPath
from urllib.parse import parse_qs, urlsplit

from catalog.sanitize import sanitize_html
from ingest.errors import ParseError
from ingest.parsers.common import (
    clean_text,
    image_id_from_url,
    image_url_problem,
    parse_datetime,
    to_float,
    to_int,
)
from ingest.records import FileRecord, ImageRecord, ModelRecord, VersionRecord

DETAILS_HEADING = "\n### 三、详情\n"
OVERVIEW_HEADING = "### 一、模型概述"
DOWNLOADS_HEADING = re.compile(r"^### 二、下载地址（共(\d+)个版本）$", re.MULTILINE)
VERSION_HEADING = re.compile(r"^#### \[版本(\d+)/共(\d+)个版本\](.*)$", re.MULTILINE)
# A link line is anchored on its URL: file names may themselves contain "](" (e.g. `宫颈[cervix](big).pt`).
FILE_LINE = re.compile(r"^  - \[(.*)\]\((https?://[^\s()]+/api/download/models/(\d+)(?:\?[^\s()]*)?)\)$")
IMG_SRC = re.compile(r'<img src="([^"]+)" />')
VERSION_ID_IN_URL = re.compile(r"/api/download/models/(\d+)")

NAME_TYPE = re.compile(r"^\[?([A-Za-z][A-Za-z0-9]*)\]?\.(?:rank-|\[排名)")


def mirror_type_from_path(path: str) -> tuple[str | None, bool | None]:
    """The model type and NSFW flag that a page's file name or folders give, or None where they say nothing."""
    parts = PurePosixPath(path.replace("\\", "/")).parts
    model_type = None
    nsfw = None
    match = NAME_TYPE.match(parts[-1]) if parts else None
    if match:
        model_type = match.group(1)
    # models/<Type>/<normal|nsfw>/markdown/<page>.md in the source repository.
    for i, part in enumerate(parts[:-1]):
        if part in ("normal", "nsfw") and i >= 1:
            nsfw = part == "nsfw"
            model_type = model_type or parts[i - 1]
    return model_type, nsfw


def mirror_parse_page(
    raw: bytes, *, source: str, model_type: str | None = None, nsfw: bool | None = None
) -> ModelRecord:
    """One mirror page. `source` is its file name or URL, used for errors and for the type when none is given."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ParseError(source, f"not UTF-8 text (byte {exc.start})") from None
    text = text.replace("\r\n", "\n")
    head, sep, description = text.partition(DETAILS_HEADING)
    if not sep:
        raise ParseError(source, "missing the '### 三、详情' (details) heading", "details")
    path_type, path_nsfw = mirror_type_from_path(source)
    # No type in the name or path: None here, so a re-ingest does not overwrite a known type; a new model
    # gets Other from the writer.
    model_type = model_type or path_type
    nsfw = nsfw if nsfw is not None else path_nsfw

    lines = head.split("\n")
    if not lines or not lines[0].startswith("## "):
        raise ParseError(source, "the page must start with '## <name>'", "name")
    name = clean_text(lines[0][3:])
    if not name:
        raise ParseError(source, "empty", "name")
    if len(lines) < 2 or lines[1] != OVERVIEW_HEADING:
        raise ParseError(source, f"expected '{OVERVIEW_HEADING}' on line 2", "overview")

    downloads = DOWNLOADS_HEADING.search(head)
    if downloads is None:
        raise ParseError(source, "missing the '### 二、下载地址（共N个版本）' heading", "versions")
    overview = head[: downloads.start()]
    stats = _overview(overview, source)
    version_count = int(downloads.group(1))
    versions = _versions(head[downloads.end() :], source)
    if len(versions) != version_count:
        raise ParseError(
            source, f"the heading says {version_count} versions, the page has {len(versions)}", "versions"
        )

    description = description.rstrip("\n")
    description_html = "" if description.strip() == "None" else sanitize_html(description)
    version_ids = [v.civitai_id for v in versions if v.civitai_id is not None]
    if version_ids:
        # The oldest version's id does not change when the creator adds versions.
        source_key = f"version:{min(version_ids)}"
    else:
        digest = hashlib.sha256(f"{name}\n{description_html}".encode()).hexdigest()[:32]
        source_key = f"page:{digest}"
    return ModelRecord(
        provider="mirror",
        source_key=source_key,
        source_url=source,
        name=name,
        type=model_type,
        description=description_html,
        nsfw=nsfw,
        tags=stats["tags"],
        download_count=stats["downloads"],
        favorite_count=stats["favorites"],
        comment_count=stats["comments"],
        rating_count=stats["rating_count"],
        rating=stats["rating"],
        versions=tuple(versions),
        versions_complete=True,
    )


OVERVIEW_FIELDS = {
    "下载数": "downloads",
    "收藏人数": "favorites",
    "评论人数": "comments",
    "评分人数": "rating_count",
    "评分": "rating",
}


def _overview(block: str, source: str) -> dict:
    values: dict = {"tags": None}
    for line in block.split("\n"):
        if not line.startswith("- "):
            continue
        label, sep, value = line[2:].partition("：")
        if not sep:
            continue
        if label == "标签":
            # Each tag is in backticks, joined by ", "; a tag may itself contain a comma.
            values["tags"] = tuple(t for t in (clean_text(t) for t in re.findall(r"`([^`]*)`", value)) if t)
        elif label in OVERVIEW_FIELDS:
            values[OVERVIEW_FIELDS[label]] = _number(value, source, f"overview.{label}", label == "评分")
    for key in OVERVIEW_FIELDS.values():
        values.setdefault(key, None)
    return values


def _number(value: str, source: str, field: str, decimal: bool) -> float | int:
    parsed = to_float(value.strip()) if decimal else to_int(value.strip())
    if parsed is None:
        raise ParseError(source, f"expected a number, got {value.strip()!r:.40}", field)
    return min(max(parsed, 0.0), 5.0) if decimal else parsed


VERSION_FIELDS = {
    "发布时间": "updated_at",
    "原始模型": "base_model",
    "下载数": "download_count",
    "评分人数": "rating_count",
    "评分": "rating",
}


def _versions(block: str, source: str) -> list[VersionRecord]:
    headings = list(VERSION_HEADING.finditer(block))
    versions = []
    for i, heading in enumerate(headings):
        end = headings[i + 1].start() if i + 1 < len(headings) else len(block)
        versions.append(_version(heading, block[heading.end() : end], source, position=i))
    return versions


def _version(heading: re.Match, body: str, source: str, position: int) -> VersionRecord:
    label = f"versions[{position}]"
    name = clean_text(heading.group(3))
    fields: dict = {}
    files: list[FileRecord] = []
    images: list[ImageRecord] = []
    warnings: list[str] = []
    version_ids: set[int] = set()
    for line in body.split("\n"):
        stat = re.match(r"^  - (发布时间|原始模型|下载数|评分人数|评分)：(.*)$", line)
        if stat:
            key, value = VERSION_FIELDS[stat.group(1)], stat.group(2).strip()
            if key == "updated_at":
                fields[key] = parse_datetime(value)
                if fields[key] is None:
                    raise ParseError(source, f"not a date: {value!r:.40}", f"{label}.发布时间")
            elif key == "base_model":
                fields[key] = clean_text(value)[:64] or None
            else:
                fields[key] = _number(value, source, f"{label}.{stat.group(1)}", key == "rating")
            continue
        link = FILE_LINE.match(line)
        if link:
            files.append(_file(link, len(files)))
            version_ids.add(int(link.group(3)))
            continue
        if line.startswith("  - ["):
            raise ParseError(source, f"not a Civitai download link: {line.strip()!r:.80}", f"{label}.files")
        if line.startswith("| <img"):
            for src in IMG_SRC.findall(line):
                problem = image_url_problem(src)
                if problem:
                    warnings.append(f"{label}.images: dropped the image: {problem}")
                    continue
                url = src.strip()
                images.append(ImageRecord(url=url, civitai_id=image_id_from_url(url)))
    if len(version_ids) > 1:
        raise ParseError(
            source, f"download URLs name several versions {sorted(version_ids)}", f"{label}.files"
        )
    version_id = next(iter(version_ids), None)
    return VersionRecord(
        civitai_id=version_id,
        name=name,
        base_model=fields.get("base_model"),
        source_updated_at=fields.get("updated_at"),
        download_count=fields.get("download_count"),
        rating_count=fields.get("rating_count"),
        rating=fields.get("rating"),
        download_url=f"https://civitai.com/api/download/models/{version_id}" if version_id else None,
        files=tuple(files),
        images=tuple(images),
        warnings=tuple(warnings),
        files_complete=True,
        images_complete=False,  # a page shows only the first four images
    )


def _file(link: re.Match, position: int) -> FileRecord:
    name, url = clean_text(link.group(1)), link.group(2)
    query = parse_qs(urlsplit(url).query)

    def first(key: str) -> str | None:
        values = query.get(key)
        return clean_text(values[0]) if values else None

    return FileRecord(
        name=name or url.rsplit("/", 1)[-1],
        download_url=url,
        kind=first("type"),
        format=first("format"),
        size_type=first("size"),
        precision=first("fp"),
        # Civitai gives the primary file's URL with no query string.
        is_primary=not query,
    )


def version_id_from_download_url(url: str) -> int | None:
    match = VERSION_ID_IN_URL.search(url)
    return int(match.group(1)) if match else None

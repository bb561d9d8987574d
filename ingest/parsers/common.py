"""Helpers the parsers share: typed access to untrusted JSON, text, dates, hashes, NSFW and licence words."""

from __future__ import annotations

import ipaddress
import math
import re
import unicodedata
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from ingest.errors import ParseError

HASH_FIELDS = {
    # Civitai hash name (lower-case) -> (catalog field, pattern of the upper-case value)
    "sha256": ("hash_sha256", re.compile(r"[0-9A-F]{64}")),
    "autov1": ("hash_autov1", re.compile(r"[0-9A-F]{8}")),
    "autov2": ("hash_autov2", re.compile(r"[0-9A-F]{10}")),
    "autov3": ("hash_autov3", re.compile(r"[0-9A-F]{12}|[0-9A-F]{64}")),
    "crc32": ("hash_crc32", re.compile(r"[0-9A-F]{8}")),
    "blake3": ("hash_blake3", re.compile(r"[0-9A-F]{64}")),
}

# Image and version NSFW words of the 2023-2024 era, and the browsing-level names, as Civitai's levels.
NSFW_WORDS = {
    "none": 1, "pg": 1, "false": 1,
    "soft": 2, "pg13": 2, "pg-13": 2,
    "mature": 4, "r": 4,
    "x": 8, "true": 8,
    "xxx": 16,
    "blocked": 32,
}  # fmt: skip

# allowCommercialUse was one word in 2023, ordered None < Image < Rent < Sell, each allowing what the
# lower ones allow; Civitai's 2024 migration turned each word into the set below.
COMMERCIAL_WORDS = {
    "none": frozenset(),
    "image": frozenset({"Image"}),
    "rentcivit": frozenset({"Image", "RentCivit"}),
    "rent": frozenset({"Image", "RentCivit", "Rent"}),
    "sell": frozenset({"Image", "RentCivit", "Rent", "Sell"}),
}
COMMERCIAL_VALUES = {"image": "Image", "rentcivit": "RentCivit", "rent": "Rent", "sell": "Sell"}


def clean_text(value: str) -> str:
    """Plain text as the catalog stores it: NFC, no control characters, no surrounding white space."""
    if not value.isascii():
        value = unicodedata.normalize("NFC", value)
    if not value.isprintable():  # the common case needs no walk over its characters
        value = "".join(
            ch if ch.isprintable() or ch in "\n\t" or unicodedata.category(ch)[0] != "C" else " "
            for ch in value
        )
    return value.replace("\t", " ").strip()


class Obj:
    """Typed access to one JSON object from an untrusted source: wrong types raise ParseError naming the field."""

    def __init__(self, data: Any, source: str, path: str) -> None:
        if not isinstance(data, dict):
            raise ParseError(source, f"expected an object, got {type(data).__name__}", path or "payload")
        self.data = data
        self.source = source
        self.path = path

    def _name(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def error(self, key: str, message: str) -> ParseError:
        return ParseError(self.source, message, self._name(key))

    def has(self, key: str) -> bool:
        return self.data.get(key) is not None

    def raw(self, key: str) -> Any:
        return self.data.get(key)

    def str(self, key: str, *, required: bool = False, max_length: int = 100_000) -> str | None:
        value = self.data.get(key)
        if value is None:
            if required:
                raise self.error(key, "missing")
            return None
        if isinstance(value, int | float) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str):
            raise self.error(key, f"expected text, got {type(value).__name__}")
        if len(value) > max_length:
            raise self.error(key, f"longer than {max_length} characters")
        return value

    def text(self, key: str, *, required: bool = False, max_length: int = 100_000) -> str | None:
        value = self.str(key, required=required, max_length=max_length)
        return None if value is None else clean_text(value)

    def int(self, key: str, *, required: bool = False) -> int | None:
        value = self.data.get(key)
        if value is None:
            if required:
                raise self.error(key, "missing")
            return None
        parsed = to_int(value)
        if parsed is None:
            raise self.error(key, f"expected a whole number, got {value!r:.40}")
        return parsed

    def float(self, key: str) -> float | None:
        value = self.data.get(key)
        if value is None:
            return None
        parsed = to_float(value)
        if parsed is None:
            raise self.error(key, f"expected a number, got {value!r:.40}")
        return parsed

    def bool(self, key: str) -> bool | None:
        value = self.data.get(key)
        if value is None:
            return None
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in {"true", "false"}:
            return value.lower() == "true"
        if isinstance(value, int) and value in (0, 1):
            return bool(value)
        raise self.error(key, f"expected true or false, got {value!r:.40}")

    def datetime(self, key: str) -> datetime | None:
        value = self.data.get(key)
        if value is None or value == "":
            return None
        if not isinstance(value, str):
            raise self.error(key, f"expected a date, got {type(value).__name__}")
        parsed = parse_datetime(value)
        if parsed is None:
            raise self.error(key, f"not an ISO-8601 date: {value!r:.40}")
        return parsed

    def obj(self, key: str) -> Obj | None:
        value = self.data.get(key)
        if value is None:
            return None
        return Obj(value, self.source, self._name(key))

    def list(self, key: str) -> list[Any] | None:
        value = self.data.get(key)
        if value is None:
            return None
        if not isinstance(value, list):
            raise self.error(key, f"expected a list, got {type(value).__name__}")
        return value

    def objs(self, key: str) -> list[Obj]:
        return [
            Obj(item, self.source, f"{self._name(key)}[{i}]") for i, item in enumerate(self.list(key) or [])
        ]

    def str_list(self, key: str) -> tuple[str, ...] | None:
        items = self.list(key)
        if items is None:
            return None
        out = []
        for i, item in enumerate(items):
            if not isinstance(item, str):
                raise ParseError(
                    self.source, f"expected text, got {type(item).__name__}", f"{self._name(key)}[{i}]"
                )
            out.append(clean_text(item))
        return tuple(out)


def to_int(value: Any) -> int | None:
    """A whole number from an int, an integral float or digits in a string; None when it is none of those."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return int(value)
    if isinstance(value, str) and re.fullmatch(r"\s*-?\d{1,30}\s*", value):
        return int(value)
    return None


def to_float(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        result = float(value)
    elif isinstance(value, str):
        try:
            result = float(value)
        except ValueError:
            return None
    else:
        return None
    return result if math.isfinite(result) else None


def parse_datetime(value: str) -> datetime | None:
    """ISO-8601 with or without a zone; no zone means UTC (Civitai's publishedAt sometimes lacks the Z)."""
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def normalise_hashes(raw: Any) -> dict[str, str]:
    """Civitai's `hashes` object as {catalog field: UPPER-HEX}; unknown names and malformed values are left out."""
    if not isinstance(raw, dict):
        return {}
    out: dict[str, str] = {}
    for name, value in raw.items():
        spec = HASH_FIELDS.get(str(name).lower())
        if spec is None or not isinstance(value, str):
            continue
        field, pattern = spec
        value = value.strip().upper()
        if pattern.fullmatch(value):
            out[field] = value
    return out


def nsfw_level(value: Any) -> int | None:
    """A Civitai NSFW value of any era (bool, word, level number or level name) as a browsing level."""
    if value is None:
        return None
    if isinstance(value, bool):
        return 8 if value else 1
    if isinstance(value, int):
        return value if 0 <= value <= 63 else None
    if isinstance(value, str):
        word = value.strip().lower()
        if word.isdecimal():
            return nsfw_level(int(word))
        return NSFW_WORDS.get(word)
    return None


def commercial_use(value: Any, source: str, field: str) -> frozenset[str] | None:
    """allowCommercialUse of any era: one word (2023), a list (2024+), or a Postgres array literal "{A,B}"."""
    if value is None:
        return None
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("{") and text.endswith("}"):
            items: list[Any] = [part.strip().strip('"') for part in text[1:-1].split(",") if part.strip()]
        else:
            word = text.lower()
            if word in COMMERCIAL_WORDS:
                return COMMERCIAL_WORDS[word]
            raise ParseError(source, f"unknown value {value!r:.40}", field)
    elif isinstance(value, list):
        items = value
    else:
        raise ParseError(source, f"expected a word or a list, got {type(value).__name__}", field)
    result = set()
    for item in items:
        if not isinstance(item, str):
            raise ParseError(source, f"expected words, got {type(item).__name__}", field)
        if item.lower() == "none":
            continue
        # An unknown new word is kept out of the four flags but does not fail the model.
        if item.lower() in COMMERCIAL_VALUES:
            result.add(COMMERCIAL_VALUES[item.lower()])
    return frozenset(result)


def seed_text(value: Any) -> str | None:
    """Seeds as text: Comfy seeds exceed 2^53, so they must not pass through a float."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if math.isfinite(value) and value.is_integer() else None
    if isinstance(value, str):
        value = value.strip()
        return value[:32] if re.fullmatch(r"-?\d+", value) else None
    return None


IMAGE_ID_IN_URL = re.compile(r"/(\d+)\.[A-Za-z0-9]+$")


def image_id_from_url(url: str) -> int | None:
    """Civitai image URLs end in /{imageId}.{ext}; /models/{id} responses strip the id field."""
    match = IMAGE_ID_IN_URL.search(url.split("?", 1)[0])
    return int(match.group(1)) if match else None


_HTTP_URL = re.compile(r"^https?://[^\s/$.?#][^\s]*$", re.IGNORECASE)


def image_url_problem(value: str | None) -> str | None:
    """Why an image URL from a source cannot be used, or None when it can: only http(s) URLs whose host is a
    name or a public address (never a loopback, private, link-local or reserved one) are fetched or shown.
    Names are checked again, resolved, when an image is mirrored (ingest.fetchers)."""
    if http_url(value) is None:
        return f"not an http(s) URL: {str(value)[:60]!r}"
    host = (urlsplit(value.strip()).hostname or "").rstrip(".").lower()
    if not host or host == "localhost" or host.endswith(".localhost"):
        return f"not a public host: {host!r}"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return None
    if not address.is_global:
        return f"not a public address: {host}"
    return None


def http_url(value: str | None) -> str | None:
    """Only absolute http(s) URLs are kept from a source; anything else (javascript:, data:, relative) is dropped."""
    if not value:
        return None
    value = value.strip()
    if len(value) <= 2048 and _HTTP_URL.match(value):
        return value
    return None

"""Fetching from Civitai and HuggingFace with httpx: timeouts, size caps, allowed hosts only, retries.

Base URLs, keys and limits come from settings: CIVITAI_BASE_URL, CIVITAI_API_KEY, HF_ENDPOINT, HF_TOKEN,
INGEST_ALLOWED_HOSTS, INGEST_TIMEOUT_SECONDS, INGEST_MAX_BODY_BYTES.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import random
import re
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from urllib.parse import urljoin, urlsplit

import httpcore
import httpx
from django.conf import settings

from ingest.errors import FetchError, ParseError, TransientFetchError, UnsafeURLError
from ingest.parsers.documents import Parsed, parse_json
from ingest.parsers.huggingface import hf_repo_id_valid

logger = logging.getLogger(__name__)

MAX_REDIRECTS = 5
MAX_RETRIES = 4
RETRY_STATUSES = {429, 500, 502, 503, 504}
MAX_RETRY_AFTER = 60.0


@dataclass(frozen=True)
class Response:
    """A fetched body with what the caller needs of the response."""

    url: str
    status: int
    body: bytes
    headers: httpx.Headers

    def json(self) -> object:
        try:
            return json.loads(self.body)
        except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
            raise ParseError(self.url, f"not JSON: {str(exc)[:200]}") from None


def _host(url: str) -> str:
    return (urlsplit(url).hostname or "").lower().rstrip(".")


def url_check(url: str) -> str:
    """Refuse anything but http(s) to an allowed host; refuse hosts that resolve to private addresses unless the
    allow-list names them (a loopback stand-in for Civitai in tests, a LAN mirror). Returns the address checked,
    which the Fetcher then connects to (so a DNS answer that changes after the check cannot redirect it)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        raise UnsafeURLError(url, "not a valid URL") from None
    if parts.scheme not in ("http", "https"):
        raise UnsafeURLError(url, f"scheme {parts.scheme or '(none)'!r} is not allowed; only http and https")
    host = _host(url)
    if not host:
        raise UnsafeURLError(url, "no host")
    if parts.username or parts.password:
        raise UnsafeURLError(url, "credentials in URLs are not allowed")
    named = {h.lower().rstrip(".").strip("[]") for h in settings.INGEST_ALLOWED_HOSTS}
    allowed = named | {_host(settings.CIVITAI_BASE_URL), _host(settings.HF_ENDPOINT)}
    if host.strip("[]") not in allowed:
        raise UnsafeURLError(url, f"host {host!r} is not in INGEST_ALLOWED_HOSTS")
    try:
        infos = socket.getaddrinfo(host.strip("[]"), parts.port or (443 if parts.scheme == "https" else 80))
    except (socket.gaierror, UnicodeError) as exc:
        raise TransientFetchError(url, f"cannot resolve {host!r}: {exc}") from None
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
        # A private or loopback address is allowed only where the operator named it (a LAN mirror, or the
        # loopback stand-in for Civitai in tests) by the address itself. A name is not enough: "localhost", or
        # any name an attacker points at 127.0.0.1, is refused.
        if not address.is_global and str(address) not in named:
            raise UnsafeURLError(url, f"host {host!r} resolves to a non-public address ({address})")
    return str(infos[0][4][0]).split("%", 1)[0]


def _pin_key(host: str) -> str:
    return host.strip("[]").lower().rstrip(".")


class _PinnedBackend(httpcore.SyncBackend):
    """Connects to the address url_check approved for a host, never to what the name resolves to by then."""

    def __init__(self, pins: dict[str, str]) -> None:
        super().__init__()
        self.pins = pins

    def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
        address = self.pins.get(_pin_key(host))
        if address is None:
            raise httpcore.ConnectError(f"{host}: not checked before connecting")
        return super().connect_tcp(address, port, timeout, local_address, socket_options)


class _PinnedTransport(httpx.HTTPTransport):
    """httpx's transport over a connection pool that connects through _PinnedBackend (TLS still verifies the
    host name)."""

    def __init__(self, pins: dict[str, str]) -> None:
        super().__init__()
        self._pool = httpcore.ConnectionPool(
            ssl_context=httpx.create_ssl_context(), network_backend=_PinnedBackend(pins)
        )


def _auth_headers(url: str) -> dict[str, str]:
    """Civitai's key goes only to Civitai's host, HuggingFace's token only to HuggingFace's."""
    host = _host(url)
    if settings.CIVITAI_API_KEY and host == _host(settings.CIVITAI_BASE_URL):
        return {"Authorization": f"Bearer {settings.CIVITAI_API_KEY}"}
    if settings.HF_TOKEN and host == _host(settings.HF_ENDPOINT):
        return {"Authorization": f"Bearer {settings.HF_TOKEN}"}
    return {}


def _retry_after(response: httpx.Response, attempt: int) -> float:
    value = response.headers.get("Retry-After")
    if value:
        try:
            return min(max(float(value), 0.0), MAX_RETRY_AFTER)
        except ValueError:
            try:
                return min(max(parsedate_to_datetime(value).timestamp() - time.time(), 0.0), MAX_RETRY_AFTER)
            except (TypeError, ValueError):
                pass
    return _backoff(attempt)


def _backoff(attempt: int) -> float:
    base = settings.INGEST_RETRY_BASE_SECONDS
    return min(base * 2**attempt, 20.0) * (0.5 + random.random() / 2)  # noqa: S311 (jitter, not crypto)


class Fetcher:
    """One HTTP client for a run: checks every URL and every redirect hop, caps bodies, retries transient errors."""

    def __init__(self, *, max_bytes: int | None = None, sleep=time.sleep) -> None:
        self.max_bytes = max_bytes or settings.INGEST_MAX_BODY_BYTES
        self.sleep = sleep
        self.pins: dict[str, str] = {}  # host -> the address url_check approved
        timeout = settings.INGEST_TIMEOUT_SECONDS
        self.client = httpx.Client(
            transport=_PinnedTransport(self.pins),
            timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
            follow_redirects=False,
            headers={"User-Agent": "catalog/0.1 (+self-hosted model catalog)", "Accept": "application/json"},
        )

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.client.close()

    def get(self, url: str, *, ok_statuses: tuple[int, ...] = (200,), accept: str | None = None) -> Response:
        """GET with redirects checked hop by hop and retries on transport errors, 429 and 5xx."""
        for attempt in range(MAX_RETRIES + 1):
            try:
                return self._get_once(url, ok_statuses, accept)
            except TransientFetchError as exc:
                if attempt == MAX_RETRIES:
                    raise
                delay = getattr(exc, "retry_after", None) or _backoff(attempt)
                logger.info("retrying %s in %.1fs: %s", url, delay, exc.message)
                self.sleep(delay)
        raise AssertionError("unreachable")

    def _get_once(self, url: str, ok_statuses: tuple[int, ...], accept: str | None = None) -> Response:
        current = url
        for _ in range(MAX_REDIRECTS + 1):
            self.pins[_pin_key(_host(current))] = url_check(current)
            try:
                headers = {**_auth_headers(current), **({"Accept": accept} if accept else {})}
                with self.client.stream("GET", current, headers=headers) as response:
                    if response.is_redirect:
                        location = response.headers.get("Location", "")
                        current = urljoin(current, location)
                        continue
                    if response.status_code in RETRY_STATUSES:
                        error = TransientFetchError(
                            current, f"HTTP {response.status_code}", response.status_code
                        )
                        error.retry_after = _retry_after(response, 0)  # type: ignore[attr-defined]
                        raise error
                    if response.status_code not in ok_statuses:
                        raise FetchError(current, f"HTTP {response.status_code}", response.status_code)
                    declared = response.headers.get("Content-Length")
                    if declared and declared.isdecimal() and int(declared) > self.max_bytes:
                        raise FetchError(
                            current, f"body of {declared} bytes is over the {self.max_bytes} bytes limit"
                        )
                    chunks, size = [], 0
                    for chunk in response.iter_bytes():
                        size += len(chunk)
                        if size > self.max_bytes:
                            raise FetchError(current, f"body is over the {self.max_bytes} bytes limit")
                        chunks.append(chunk)
                    return Response(current, response.status_code, b"".join(chunks), response.headers)
            except httpx.TimeoutException:
                raise TransientFetchError(current, "timed out") from None
            except httpx.TransportError as exc:
                raise TransientFetchError(current, f"network error: {type(exc).__name__}") from None
        raise FetchError(url, f"more than {MAX_REDIRECTS} redirects")


CIVITAI_MODEL_URL = re.compile(r"^/models/(\d+)(?:/[^?#]*)?$")
CIVITAI_VERSION_URL = re.compile(r"^/(?:api/download/models|api/v1/model-versions|model-versions)/(\d+)/?$")
HF_REPO_URL = re.compile(r"^/([A-Za-z0-9][\w.-]*/[A-Za-z0-9][\w.-]*)(?:/.*)?$")


def classify_source(source: str) -> tuple[str, str]:
    """What a user typed, as (kind, key): ("civitai-model", "1069"), ("civitai-version", "1044"),
    ("huggingface", "owner/name"). Raises FetchError for anything else."""
    text = source.strip()
    if text.isdecimal():
        return "civitai-version", text
    if "://" not in text:
        if hf_repo_id_valid(text):
            return "huggingface", text
        raise FetchError(source, "not a file, URL, Civitai version id or HuggingFace repo id")
    parts = urlsplit(text)
    host = (parts.hostname or "").lower()
    civitai_hosts = {"civitai.com", "www.civitai.com", "api.civitai.com", _host(settings.CIVITAI_BASE_URL)}
    hf_hosts = {"huggingface.co", "www.huggingface.co", _host(settings.HF_ENDPOINT)}
    if host in civitai_hosts:
        query = dict(p.split("=", 1) for p in parts.query.split("&") if "=" in p)
        match = CIVITAI_MODEL_URL.match(parts.path)
        if match:
            if query.get("modelVersionId", "").isdecimal():
                return "civitai-version", query["modelVersionId"]
            return "civitai-model", match.group(1)
        match = CIVITAI_VERSION_URL.match(parts.path)
        if match:
            return "civitai-version", match.group(1)
        match = re.match(r"^/api/v1/models/(\d+)/?$", parts.path)
        if match:
            return "civitai-model", match.group(1)
    if host in hf_hosts:
        match = HF_REPO_URL.match(parts.path.removeprefix("/api/models"))
        if match and hf_repo_id_valid(match.group(1)):
            return "huggingface", match.group(1)
    url_check(text)  # a URL of no known shape: say why it is refused when it is refused
    raise FetchError(source, "not a Civitai model/version URL or a HuggingFace model URL")


def fetch_source(source: str) -> Iterator[Parsed]:
    """Fetch what a source names and parse it."""
    kind, key = classify_source(source)
    with Fetcher() as fetcher:
        if kind == "civitai-model":
            yield from fetch_civitai_model(fetcher, int(key), label=source)
        elif kind == "civitai-version":
            yield from fetch_civitai_version(fetcher, int(key), label=source)
        else:
            yield from fetch_huggingface(fetcher, key, label=source)


def _civitai_api(path: str) -> str:
    return f"{settings.CIVITAI_BASE_URL.rstrip('/')}/api/v1/{path}"


def fetch_civitai_model(fetcher: Fetcher, model_id: int, *, label: str) -> Iterator[Parsed]:
    response = fetcher.get(_civitai_api(f"models/{model_id}"), ok_statuses=(200, 404, 410))
    if response.status in (404, 410):
        raise FetchError(label, f"Civitai has no model {model_id} (HTTP {response.status})", response.status)
    yield from parse_json(
        response.json(),
        name=label,
        civitai_base_url=settings.CIVITAI_BASE_URL,
        hf_endpoint=settings.HF_ENDPOINT,
    )


def fetch_civitai_version(fetcher: Fetcher, version_id: int, *, label: str) -> Iterator[Parsed]:
    """A version names its model: ingest the whole model, then the version's own payload (it carries the
    generation metadata that 2024+ model lists leave out)."""
    response = fetcher.get(_civitai_api(f"model-versions/{version_id}"), ok_statuses=(200, 404, 410))
    if response.status in (404, 410):
        raise FetchError(
            label, f"Civitai has no model version {version_id} (HTTP {response.status})", response.status
        )
    data = response.json()
    model_id = data.get("modelId") if isinstance(data, dict) else None
    if isinstance(model_id, int):
        yield from fetch_civitai_model(fetcher, model_id, label=label)
    yield from parse_json(data, name=label, civitai_base_url=settings.CIVITAI_BASE_URL)


def fetch_huggingface(fetcher: Fetcher, repo_id: str, *, label: str) -> Iterator[Parsed]:
    base = settings.HF_ENDPOINT.rstrip("/")
    response = fetcher.get(f"{base}/api/models/{repo_id}?blobs=true", ok_statuses=(200, 401, 404))
    if response.status in (401, 404):
        raise FetchError(
            label, f"HuggingFace has no public repo {repo_id} (HTTP {response.status})", response.status
        )
    data = response.json()
    sha = data.get("sha") if isinstance(data, dict) else None
    card = None
    if isinstance(data, dict) and any(
        isinstance(s, dict) and s.get("rfilename") == "README.md" for s in data.get("siblings") or []
    ):
        readme = fetcher.get(f"{base}/{repo_id}/raw/{sha or 'main'}/README.md", ok_statuses=(200, 404))
        card = readme.body if readme.status == 200 else None
    yield from parse_json(data, name=label, card=card, hf_endpoint=settings.HF_ENDPOINT)


CIVITAI_SORTS = (
    "Highest Rated", "Most Downloaded", "Most Liked", "Most Discussed", "Most Collected", "Most Images", "Newest",
    "Oldest",
)  # fmt: skip


def crawl_civitai(
    fetcher: Fetcher, params: dict[str, str | list[str]], *, limit: int | None
) -> Iterator[Parsed]:
    """Walk Civitai's /api/v1/models with its cursor (metadata.nextCursor) and yield each model."""
    query: dict[str, str | list[str]] = {"limit": "100", "nsfw": "true", **params}
    seen = 0
    url = httpx.URL(_civitai_api("models"), params=query)
    while True:
        response = fetcher.get(str(url))
        data = response.json()
        if not isinstance(data, dict) or not isinstance(data.get("items"), list):
            raise ParseError(str(url), "expected a /models list response with items")
        for label, parsed in parse_json(
            {"items": data["items"], "metadata": {}},
            name=str(url),
            civitai_base_url=settings.CIVITAI_BASE_URL,
        ):
            yield label, parsed
            seen += 1
            if limit is not None and seen >= limit:
                return
        metadata = data.get("metadata") if isinstance(data.get("metadata"), dict) else {}
        cursor = metadata.get("nextCursor")
        if cursor in (None, "") or not data["items"]:
            return
        url = httpx.URL(_civitai_api("models"), params={**query, "cursor": str(cursor)})


def crawl_huggingface(
    fetcher: Fetcher, params: dict[str, str | list[str]], *, limit: int | None
) -> Iterator[Parsed]:
    """Walk HuggingFace's /api/models list with its Link header pagination and yield each model."""
    base = settings.HF_ENDPOINT.rstrip("/")
    query = {"limit": "100", "full": "true", "cardData": "true", **params}
    url: str | None = str(httpx.URL(f"{base}/api/models", params=query))
    seen = 0
    while url:
        response = fetcher.get(url)
        data = response.json()
        if not isinstance(data, list):
            raise ParseError(url, "expected a list of models")
        for i, item in enumerate(data):
            for label, parsed in parse_json(item, name=f"{url}[{i}]", hf_endpoint=settings.HF_ENDPOINT):
                yield label, parsed
                seen += 1
                if limit is not None and seen >= limit:
                    return
        next_link = httpx.Response(200, headers=response.headers).links.get("next", {}).get("url")
        url = urljoin(url, next_link) if next_link else None

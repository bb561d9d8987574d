"""Rendered answers, kept in each web process and keyed by the catalog's version.

A catalog is read far more often than it changes: the front page, a popular tag, a search many people make, an
API client asking for the same hash again. Each answer of the pages and read API named in ANSWERED_VIEWS is
kept, as rendered, in the web process that computed it, under the catalog's version (`selectors.catalog_version`)
and the request's full URL, host, `Accept` header and NSFW view. Every write to the catalog (ingest, curation,
mirrored images) moves the version on (`services.catalog_changed`), so an answer is never served once the
catalog has changed; ANSWER_CACHE_SECONDS bounds an answer's age besides, for a write made behind the
catalog's back (SQL by hand).

Only anonymous GETs with a 200 answer are kept, never one that sets a cookie, holds a CSRF token or says
`Cache-Control: no-store` (a list showing facet counts from before the latest change): a signed-in
admin, a request with an API token and a private catalog always get a computed answer. The store is a
least-recently-used dict bounded in bytes (ANSWER_CACHE_MB per process), so memory stays bounded however many
pages a crawler walks. The version lives in the database, so a write by any process (a `manage.py ingest`
beside the server) is seen by every web process at its next request.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from catalog.context_processors import nsfw_view
from catalog.selectors import catalog_version

# Read-only pages and API views whose answer depends on the catalog and the URL alone.
ANSWERED_VIEWS = frozenset(
    {
        "catalog:model_list",
        "catalog:model_detail",
        "catalog:tag",
        "catalog:creator",
        "catalog:base_model",
        "api:model-list",
        "api:model-detail",
        "api:version-list",
        "api:version-detail",
        "api:file-list",
        "api:file-detail",
        "api:file-by-hash",
        "api:image-list",
        "api:image-detail",
        "api:tag-list",
        "api:tag-detail",
        "api:creator-list",
        "api:creator-detail",
        "api:civitai-models",
        "api:civitai-model",
        "api:civitai-version",
        "api:civitai-version-by-hash",
        "api:civitai-tags",
        "api:civitai-creators",
    }
)
HEADER = "X-Answer-Cache"  # "hit" or "miss", for operators and tests


@dataclass(frozen=True)
class Answer:
    kept_at: float
    status: int
    headers: tuple[tuple[str, str], ...]
    content: bytes

    @property
    def size(self) -> int:
        return len(self.content) + sum(len(k) + len(v) for k, v in self.headers) + 200


class AnswerStore:
    """A least-recently-used store of answers, bounded in bytes, emptied when the catalog's version moves on."""

    def __init__(self, *, max_bytes: int, max_age: float) -> None:
        self.max_bytes, self.max_age = max_bytes, max_age
        self.version: int | None = None
        self.answers: OrderedDict[tuple, Answer] = OrderedDict()
        self.bytes = 0
        self.lock = threading.Lock()  # runserver and threaded servers share a process

    def get(self, version: int, key: tuple) -> Answer | None:
        with self.lock:
            self._at(version)
            answer = self.answers.get(key)
            if answer is None:
                return None
            if time.monotonic() - answer.kept_at > self.max_age:
                self._drop(key)
                return None
            self.answers.move_to_end(key)
            return answer

    def put(self, version: int, key: tuple, answer: Answer) -> None:
        if answer.size > self.max_bytes // 8:  # one huge answer must not empty the store
            return
        with self.lock:
            self._at(version)
            if key in self.answers:
                self._drop(key)
            self.answers[key] = answer
            self.bytes += answer.size
            while self.bytes > self.max_bytes:
                self._drop(next(iter(self.answers)))

    def clear(self) -> None:
        with self.lock:
            self.answers.clear()
            self.bytes = 0
            self.version = None

    def _at(self, version: int) -> None:
        if version != self.version:
            self.answers.clear()
            self.bytes = 0
            self.version = version

    def _drop(self, key: tuple) -> None:
        self.bytes -= self.answers.pop(key).size


class AnswerCacheMiddleware:
    """Serves a kept answer when there is one for this catalog version and request; keeps new ones. Placed after
    the authentication middleware (it must know who asks) and inside the middleware that adds security headers,
    so those are set on every answer, kept or not."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.enabled = settings.ANSWER_CACHE and not settings.CATALOG_PRIVATE
        self.store = AnswerStore(
            max_bytes=settings.ANSWER_CACHE_MB * 1024 * 1024, max_age=settings.ANSWER_CACHE_SECONDS
        )

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        kept = getattr(request, "_answer_key", None)
        if kept is not None:
            version, key = kept
            if _keepable(request, response):
                self.store.put(version, key, _answer(response))
            response[HEADER] = "miss"
        return response

    def process_view(self, request: HttpRequest, view_func, view_args, view_kwargs) -> HttpResponse | None:
        if not self.enabled or request.method != "GET":
            return None
        match = request.resolver_match
        if match is None or match.view_name not in ANSWERED_VIEWS:
            return None
        if "nsfw_view" in request.GET or "HTTP_AUTHORIZATION" in request.META:
            return None  # the first writes the session; the second is a token client, maybe with more rights
        if settings.SESSION_COOKIE_NAME in request.COOKIES and request.user.is_authenticated:
            return None
        version = catalog_version()
        key = (
            request.build_absolute_uri(),
            request.META.get("HTTP_ACCEPT", ""),
            nsfw_view(request),
        )
        answer = self.store.get(version, key)
        if answer is None:
            request._answer_key = (version, key)
            return None
        response = HttpResponse(answer.content, status=answer.status)
        for name, value in answer.headers:
            response[name] = value
        response[HEADER] = "hit"
        return response


def _keepable(request: HttpRequest, response: HttpResponse) -> bool:
    return (
        response.status_code == 200
        and not response.streaming
        and not response.cookies
        and not request.META.get("CSRF_COOKIE_NEEDS_UPDATE")  # the page holds a CSRF token
        and not response.has_header("Set-Cookie")
        and not {"no-store", "private"}
        & {part.strip() for part in response.get("Cache-Control", "").split(",")}
    )


def _answer(response: HttpResponse) -> Answer:
    return Answer(
        kept_at=time.monotonic(),
        status=response.status_code,
        headers=tuple((k, v) for k, v in response.items() if k.lower() != "set-cookie"),
        content=response.content,
    )

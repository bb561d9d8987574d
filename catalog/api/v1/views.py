"""Civitai's /api/v1/ read endpoints: models, versions, a version by file hash, tags and creators."""

from __future__ import annotations

import hashlib
import math
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.db.models import F, QuerySet
from django.http import HttpRequest, JsonResponse
from django.utils.cache import add_never_cache_headers
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.decorators import api_view, permission_classes, throttle_classes
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings

from catalog.api.v1.params import (
    COMMERCIAL,
    MODEL_PARAMS,
    PAGE,
    PERIODS,
    PUBLIC_ID,
    SORTS,
    BadRequest,
    int_param,
    is_id,
    lookup,
    models_filtered,
    ordering_of,
)
from catalog.civitai_json import MODES, models_json, public_id, version_json
from catalog.hashes import HEX, files_with_hash
from catalog.models import Model, ModelFile, ModelVersion
from catalog.pagination import BadCursor, cursor_for, keyset_after, keyset_order
from catalog.search import searched_in_order
from catalog.selectors import (
    creators_counted,
    kept_counts,
    merged_into,
    models_described,
    tags_counted,
    version_rows,
)


def error(message: str, status: int) -> Response:
    """Civitai's error shape."""
    return Response({"error": message}, status=status)


class CatalogRead(BasePermission):
    """Public reads, unless the catalog is private (then a login or a token)."""

    public_reads = True

    def has_permission(self, request, view):
        return not settings.CATALOG_PRIVATE or bool(request.user and request.user.is_authenticated)


def civitai_view(**schema: Any):
    """A read-only GET endpoint of this surface: documented, public unless the catalog is private, throttled."""

    def decorate(view):
        view = throttle_classes(api_settings.DEFAULT_THROTTLE_CLASSES)(view)
        view = permission_classes([CatalogRead])(view)
        view = api_view(["GET"])(view)
        return extend_schema(**{"responses": OpenApiTypes.OBJECT, **schema})(view)

    return decorate


@civitai_view(
    operation_id="civitai_models_list",
    summary="Models, as Civitai's GET /api/v1/models answers",
    parameters=[
        OpenApiParameter(
            "limit", {"type": "integer", "minimum": 0, "maximum": 100}, description="0 to 100 (default 100)"
        ),
        OpenApiParameter("page", PAGE),
        OpenApiParameter("cursor", OpenApiTypes.STR),
        OpenApiParameter("query", OpenApiTypes.STR),
        OpenApiParameter("tag", OpenApiTypes.STR),
        OpenApiParameter("username", OpenApiTypes.STR),
        OpenApiParameter("types", OpenApiTypes.STR, many=True),
        OpenApiParameter("baseModels", OpenApiTypes.STR, many=True),
        OpenApiParameter("sort", OpenApiTypes.STR, enum=list(SORTS)),
        OpenApiParameter("period", OpenApiTypes.STR, enum=list(PERIODS)),
        OpenApiParameter("nsfw", OpenApiTypes.BOOL),
        OpenApiParameter("allowNoCredit", OpenApiTypes.BOOL),
        OpenApiParameter("allowDerivatives", OpenApiTypes.BOOL),
        OpenApiParameter("allowDifferentLicense", OpenApiTypes.BOOL),
        OpenApiParameter("allowCommercialUse", OpenApiTypes.STR, enum=list(COMMERCIAL)),
        OpenApiParameter(
            "ids",
            {"type": "string", "pattern": r"^[\s,]*(-?[0-9]{1,11}[\s,]*)*$"},
            description="comma-separated model ids",
        ),
    ],
)
def models_list(request: Request) -> Response:
    params = request.query_params
    try:
        unknown = sorted(set(params) - MODEL_PARAMS - {f"{n}[]" for n in ("types", "baseModels", "ids")})
        if unknown:
            raise BadRequest(f"unknown parameter {unknown[0]!r}")
        limit = int_param(params, "limit", 100, 0, 100) or 100
        sort = params.get("sort", "Highest Rated")
        if sort not in SORTS:
            raise BadRequest(f"sort: one of {', '.join(SORTS)}")
        if params.get("query") and params.get("page"):
            raise BadRequest("Cannot use page param with query search. Use cursor-based pagination.")
        qs = models_filtered(params)
        ordering = ordering_of(sort)
        ordered = keyset_order(qs, ordering)
        metadata: dict[str, Any] = {}
        current = True
        query = (params.get("query") or "").strip()
        if params.get("cursor") or query:
            # A search pages by cursor only, as on Civitai: no count of every match.
            try:
                if query:
                    # The same search as the list page and /api/ (full text on PostgreSQL, hashes exactly).
                    rows = list(
                        searched_in_order(models_described(qs), query, ordering, params.get("cursor"), limit)
                    )
                else:
                    rows = list(
                        models_described(keyset_after(ordered, ordering, params["cursor"]))[: limit + 1]
                    )
            except BadCursor:
                raise BadRequest("cursor: not a cursor this API gave out") from None
        else:
            page = int_param(params, "page", 1, 1)
            total, current = _count(params, qs)
            rows = list(models_described(ordered)[(page - 1) * limit : page * limit + 1])
            total_pages = math.ceil(total / limit) if total else 0
            metadata.update(totalItems=total, currentPage=page, pageSize=limit, totalPages=total_pages)
            if page < total_pages:
                metadata["nextPage"] = _url(request, {**params.dict(), "page": page + 1})
    except BadRequest as exc:
        return error(exc.message, 400)
    more = len(rows) > limit
    rows = rows[:limit]
    if more and rows:
        cursor = cursor_for(rows[-1], ordering)
        metadata["nextCursor"] = cursor
        if "nextPage" not in metadata:
            query = {k: v for k, v in params.dict().items() if k != "page"}
            metadata["nextPage"] = _url(request, {**query, "cursor": cursor})
    response = Response({"items": models_json(rows), "metadata": metadata})
    if not current:
        add_never_cache_headers(response)  # a count from before the catalog's latest change: not one to keep
    return response


NOT_FILTERS = {"limit", "page", "cursor", "sort", "token"}


def _count(params, qs: QuerySet[Model]) -> tuple[int, bool]:
    """How many models the filters leave (totalItems), and whether that is current: kept until the catalog
    changes (selectors.kept_counts: counting a common tag's models reads a good part of the catalog), except
    where a `period` makes it change with the clock."""
    if (params.get("period") or "AllTime") != "AllTime":
        return qs.count(), True
    filters = sorted((name, values) for name, values in params.lists() if name not in NOT_FILTERS)
    key = hashlib.sha256(repr(filters).encode()).hexdigest()
    return kept_counts(f"civitai:count:{key}", qs.count)


def not_found(request: HttpRequest, rest: str = "") -> JsonResponse:
    """Any other path under /api/v1/: Civitai's JSON error, never an HTML page (DEBUG's included)."""
    return JsonResponse({"error": f"Not found: {request.path[:200]}"}, status=404)


def _url(request: Request, params: dict[str, Any]) -> str:
    return request.build_absolute_uri(request.path) + "?" + urlencode(params)


@civitai_view(
    operation_id="civitai_model_retrieve",
    summary="One model, as Civitai's GET /api/v1/models/{id} answers",
    parameters=[OpenApiParameter("model_id", PUBLIC_ID, OpenApiParameter.PATH)],
)
def model_detail(request: Request, model_id: str) -> Response:
    if not is_id(model_id):
        return error(f"Invalid id: {model_id!r:.40}; expected a whole number", 400)
    model_id = int(model_id)
    model = models_described(Model.objects.visible().filter(lookup(model_id))).first()
    if model is None:  # a model merged into another answers as the one it was merged into
        survivor = merged_into(civitai_id=model_id) if model_id > 0 else merged_into(pk=-model_id)
        if survivor is not None:
            model = models_described(Model.objects.filter(pk=survivor.pk)).first()
    if model is None:
        return error(f"No model with id {model_id}", 404)
    return Response(models_json([model])[0])


MODEL_OF_VERSION = (
    "model__civitai_id",
    "model__name",
    "model__type",
    "model__nsfw",
    "model__poi",
    "model__availability",
)


def _version_response(versions: QuerySet[ModelVersion]) -> Response:
    """The first of these versions, with its model's essentials, as Civitai's version endpoints answer."""
    rows = version_rows(versions.filter(model__hidden=False)[:1], *MODEL_OF_VERSION)
    if not rows:
        return error("Model not found", 404)
    row = rows[0]
    data = version_json(row, public_id(row["model__civitai_id"], row["model_id"]))
    data["model"] = {
        "name": row["model__name"],
        "type": row["model__type"],
        "nsfw": row["model__nsfw"],
        "poi": row["model__poi"],
        "mode": MODES.get(row["model__availability"]),
    }
    return Response(data)


@civitai_view(
    operation_id="civitai_model_version_retrieve",
    summary="One version, as Civitai's GET /api/v1/model-versions/{id}",
    parameters=[OpenApiParameter("version_id", PUBLIC_ID, OpenApiParameter.PATH)],
)
def version_detail(request: Request, version_id: str) -> Response:
    if not is_id(version_id):
        return error(f"Invalid id: {version_id!r:.40}; expected a whole number", 400)
    version_id = int(version_id)
    return _version_response(ModelVersion.objects.filter(lookup(version_id)))


@civitai_view(
    operation_id="civitai_model_version_by_hash",
    summary="The version a file hash belongs to, as Civitai's GET /api/v1/model-versions/by-hash/{hash}",
)
def version_by_hash(request: Request, hash: str) -> Response:
    if not HEX.match(hash):
        return error("Model not found", 404)
    # Several files may share a hash: the oldest published version wins, as at Civitai.
    version_ids = ModelFile.objects.filter(files_with_hash(hash)).values("version_id")
    return _version_response(
        ModelVersion.objects.filter(pk__in=version_ids).order_by(F("published_at").asc(nulls_last=True), "pk")
    )


def _paged_names(request: Request, counted: tuple[list[tuple], bool], name, item) -> Response:
    """A page of rows counted and kept by the selectors (tags_counted, creators_counted): those whose `name(row)`
    holds the `query` parameter in any case, each as `item(row)`. Counts from before the catalog's latest
    change (see selectors.kept_counts) make an answer not to keep."""
    params = request.query_params
    try:
        unknown = sorted(set(params) - {"limit", "page", "query", "token"})
        if unknown:
            raise BadRequest(f"unknown parameter {unknown[0]!r}")
        limit = int_param(params, "limit", 20, 1, 200)
        page = int_param(params, "page", 1, 1)
    except BadRequest as exc:
        return error(exc.message, 400)
    rows, current = counted
    query = (params.get("query") or "").strip().upper()
    if query:
        rows = [row for row in rows if query in name(row).upper()]
    total = len(rows)
    rows = rows[(page - 1) * limit : page * limit]
    total_pages = math.ceil(total / limit) if total else 0
    metadata: dict[str, Any] = {
        "totalItems": total,
        "currentPage": page,
        "pageSize": limit,
        "totalPages": total_pages,
    }
    if page < total_pages:
        metadata["nextPage"] = _url(request, {**params.dict(), "page": page + 1})
    if page > 1:
        metadata["prevPage"] = _url(request, {**params.dict(), "page": page - 1})
    response = Response({"items": [item(r) for r in rows], "metadata": metadata})
    if not current:
        add_never_cache_headers(response)
    return response


NAME_LIST_PARAMETERS = [
    OpenApiParameter(
        "limit", {"type": "integer", "minimum": 1, "maximum": 200}, description="1 to 200 (default 20)"
    ),
    OpenApiParameter("page", PAGE),
    OpenApiParameter("query", OpenApiTypes.STR),
]


def _models_link(request: Request, **params: str) -> str:
    return request.build_absolute_uri("/api/v1/models") + "?" + urlencode(params)


@civitai_view(
    operation_id="civitai_tags_list",
    summary="Tags, as Civitai's GET /api/v1/tags",
    parameters=NAME_LIST_PARAMETERS,
)  # fmt: skip
def tags_list(request: Request) -> Response:
    return _paged_names(
        request,
        tags_counted(),
        lambda tag: tag[0],
        lambda tag: {"name": tag[0], "modelCount": tag[1], "link": _models_link(request, tag=tag[0])},
    )


@civitai_view(
    operation_id="civitai_creators_list",
    summary="Creators, as Civitai's GET /api/v1/creators",
    parameters=NAME_LIST_PARAMETERS,
)  # fmt: skip
def creators_list(request: Request) -> Response:
    return _paged_names(
        request,
        creators_counted(),
        lambda creator: creator[0],
        lambda creator: {
            "username": creator[0],
            "modelCount": creator[2],
            "link": _models_link(request, username=creator[0]),
            "image": creator[1] or None,
        },
    )

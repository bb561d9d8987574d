"""A read-only surface shaped like Civitai's public REST API v1, so Civitai clients can use this catalog by
changing the host. Field names, nesting and enum spellings follow Civitai's (see ../shared/corpus/FORMATS.md).

Ids are Civitai's where a row came from Civitai (mirror pages included: their version ids are Civitai's). A row
the catalog knows only from elsewhere (a mirror page with no model id, a HuggingFace repo) answers under the
negative of its catalog id, which can never collide with a Civitai id.
"""

from __future__ import annotations

import hashlib
import math
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.db.models import F, Q, QuerySet
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.decorators import api_view, permission_classes, throttle_classes
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings

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

SORTS = {
    "Highest Rated": ("rating", "desc"),
    "Most Downloaded": ("download_count", "desc"),
    "Most Liked": ("thumbs_up_count", "desc"),
    "Most Discussed": ("comment_count", "desc"),
    "Most Collected": ("favorite_count", "desc"),
    "Most Images": ("image_count", "desc"),
    "Newest": ("published_at", "desc"),
    "Oldest": ("published_at", "asc"),
}
PERIODS = {"AllTime": None, "Year": 365, "Month": 30, "Week": 7, "Day": 1}
COMMERCIAL = {
    "None": None,
    "Image": "allow_commercial_image",
    "RentCivit": "allow_commercial_rent_civit",
    "Rent": "allow_commercial_rent",
    "Sell": "allow_commercial_sell",
}
# Civitai's enums (FORMATS.md §1.3, §1.4): the values its /models endpoint takes for `types` and `baseModels`.
CIVITAI_MODEL_TYPES = frozenset(
    [
        "Checkpoint",
        "TextualInversion",
        "Hypernetwork",
        "AestheticGradient",
        "LORA",
        "LoCon",
        "DoRA",
        "Controlnet",
        "Upscaler",
        "MotionModule",
        "VAE",
        "TextEncoder",
        "UNet",
        "CLIPVision",
        "Poses",
        "Wildcards",
        "Workflows",
        "ComfyWorkflows",
        "Detection",
        "VisionLanguage",
        "CLIP",
        "LLM",
        "Other",
    ]
)
CIVITAI_BASE_MODELS = frozenset(
    {
        "SD 1.4", "SD 1.5", "SD 1.5 LCM", "SD 1.5 Hyper", "SD 2.0", "SD 2.0 768", "SD 2.1", "SD 2.1 768",
        "SD 2.1 Unclip", "SDXL 0.9", "SDXL 1.0", "SDXL 1.0 LCM", "SDXL Turbo", "SDXL Lightning", "SDXL Hyper",
        "SDXL Distilled", "SD 3", "SD 3.5", "SD 3.5 Medium", "SD 3.5 Large", "SD 3.5 Large Turbo", "Pony",
        "Illustrious", "NoobAI", "Flux.1 D", "Flux.1 S", "Flux.1 Kontext", "AuraFlow", "SVD", "SVD XT",
        "Stable Cascade", "PixArt a", "PixArt E", "Hunyuan 1", "Hunyuan Video", "Lumina", "Kolors", "LTXV",
        "Mochi", "CogVideoX", "Wan Video", "HiDream", "Playground v2", "Other",
    }
)  # fmt: skip
MODEL_PARAMS = {
    "limit", "page", "cursor", "query", "tag", "username", "types", "baseModels", "sort", "period", "nsfw",
    "allowNoCredit", "allowDerivatives", "allowDifferentLicense", "allowCommercialUse", "ids", "token",
    "primaryFileOnly", "rating", "favorites", "hidden", "periodMode", "checkpointType", "supportsGeneration",
}  # fmt: skip


class BadRequest(Exception):
    def __init__(self, message: str) -> None:
        self.message = message


def error(message: str, status: int) -> Response:
    """Civitai's error shape."""
    return Response({"error": message}, status=status)


class CatalogRead(BasePermission):
    """Public reads, unless the catalog is private (then a login or a token)."""

    public_reads = True

    def has_permission(self, request, view):
        return not settings.CATALOG_PRIVATE or bool(request.user and request.user.is_authenticated)


def lookup(public: int) -> Q:
    """A row by the id this surface gives it: Civitai's, or the negated catalog id of a row Civitai never named."""
    return Q(civitai_id=public) if public > 0 else Q(pk=-public, civitai_id__isnull=True)


# --- Parameters ------------------------------------------------------------------------------------------


def _bool(params, name: str) -> bool | None:
    value = params.get(name)
    if value is None:
        return None
    if value.lower() in ("true", "1"):
        return True
    if value.lower() in ("false", "0"):
        return False
    raise BadRequest(f"{name}: expected true or false, got {value!r:.40}")


def _int(params, name: str, default: int, low: int, high: int | None = None) -> int:
    value = params.get(name)
    if value is None:
        return default
    if not value.lstrip("-").isdecimal() or len(value) > 12:
        raise BadRequest(f"{name}: expected a whole number, got {value!r:.40}")
    number = int(value)
    if number < low or (high is not None and number > high):
        raise BadRequest(
            f"{name}: must be between {low} and {high}" if high else f"{name}: must be {low} or more"
        )
    return number


def _list(params, name: str) -> list[str]:
    values = []
    for raw in params.getlist(name) + params.getlist(f"{name}[]"):
        values.extend(v.strip() for v in raw.split(",") if v.strip())
    return values


def _enum_values(params, name: str, known: frozenset[str], rows: QuerySet, field: str) -> list[str]:
    """The values of an enum parameter; one that is neither Civitai's nor held by the catalog (a newer source's
    value) is a 400 naming it, as Civitai answers a value outside its enum."""
    values = _list(params, name)
    unknown = [value for value in values if value not in known]
    if unknown:
        held = set(rows.filter(**{f"{field}__in": unknown}).values_list(field, flat=True).distinct())
        unknown = [value for value in unknown if value not in held]
    if unknown:
        raise BadRequest(
            f"{name}: unknown value {unknown[0]!r:.80}; expected one of {', '.join(sorted(known))}"
        )
    return values


def _models_filtered(params) -> QuerySet[Model]:
    """The visible models every parameter but the search asks for (models_list searches them)."""
    qs = Model.objects.visible()
    if params.get("tag"):
        qs = qs.filter(
            pk__in=Model.tags.through.objects.filter(tag__name__iexact=params["tag"]).values("model_id")
        )
    if params.get("username"):
        qs = qs.filter(creator__username__iexact=params["username"])
    types = _enum_values(params, "types", CIVITAI_MODEL_TYPES, Model.objects.all(), "type")
    if types:
        qs = qs.filter(type__in=types)
    base_models = _enum_values(
        params, "baseModels", CIVITAI_BASE_MODELS, ModelVersion.objects.all(), "base_model"
    )
    if base_models:
        qs = qs.filter(pk__in=ModelVersion.objects.filter(base_model__in=base_models).values("model_id"))
    period = params.get("period", "AllTime")
    if period not in PERIODS:
        raise BadRequest(f"period: one of {', '.join(PERIODS)}")
    if PERIODS[period]:
        qs = qs.filter(published_at__gte=timezone.now() - timedelta(days=PERIODS[period]))
    # As on Civitai (FORMATS.md §1.2): without nsfw=true the list is safe for work only; nsfw=true is every
    # level, not NSFW models only.
    if not _bool(params, "nsfw"):
        qs = qs.filter(nsfw=False)
    for name, field in [
        ("allowNoCredit", "allow_no_credit"),
        ("allowDerivatives", "allow_derivatives"),
        ("allowDifferentLicense", "allow_different_license"),
    ]:
        value = _bool(params, name)
        if value is not None:
            qs = qs.filter(**{field: value})
    commercial = params.get("allowCommercialUse")
    if commercial is not None:
        if commercial not in COMMERCIAL:
            raise BadRequest(f"allowCommercialUse: one of {', '.join(COMMERCIAL)}")
        if COMMERCIAL[commercial]:
            qs = qs.filter(**{COMMERCIAL[commercial]: True})
        else:
            qs = qs.filter(
                allow_commercial_image=False,
                allow_commercial_rent_civit=False,
                allow_commercial_rent=False,
                allow_commercial_sell=False,
            )
    ids = _list(params, "ids")
    if ids:
        if not all(i.lstrip("-").isascii() and i.lstrip("-").isdecimal() and len(i) < 12 for i in ids):
            raise BadRequest("ids: a comma-separated list of model ids")
        condition = Q(pk__in=[])
        for value in map(int, ids):
            condition |= lookup(value)
        qs = qs.filter(condition)
    return qs


def _ordering(sort: str) -> tuple[str, str]:
    field, direction = SORTS[sort]
    return (f"-{field}", "-pk") if direction == "desc" else (field, "pk")


# What the schema says of ids and pages: as many digits as _is_id and _int take.
PUBLIC_ID = {"type": "integer", "minimum": -(10**12) + 1, "maximum": 10**12 - 1}
PAGE = {"type": "integer", "minimum": 1, "maximum": 10**12 - 1}

# --- Views -----------------------------------------------------------------------------------------------


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
        limit = _int(params, "limit", 100, 0, 100) or 100
        sort = params.get("sort", "Highest Rated")
        if sort not in SORTS:
            raise BadRequest(f"sort: one of {', '.join(SORTS)}")
        if params.get("query") and params.get("page"):
            raise BadRequest("Cannot use page param with query search. Use cursor-based pagination.")
        qs = _models_filtered(params)
        ordering = _ordering(sort)
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
            page = _int(params, "page", 1, 1)
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


def _is_id(value: str) -> bool:
    """Whether a path's id is a number this surface could have given out (public_id)."""
    digits = value.removeprefix("-")
    return digits.isdecimal() and digits.isascii() and len(digits) <= 12


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
    if not _is_id(model_id):
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
    if not _is_id(version_id):
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
        limit = _int(params, "limit", 20, 1, 200)
        page = _int(params, "page", 1, 1)
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

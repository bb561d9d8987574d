"""The parameters of Civitai's /api/v1/ as this surface reads them: its enums, and a 400 naming a bad value."""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Q, QuerySet
from django.utils import timezone

from catalog.models import Model, ModelVersion

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


def lookup(public: int) -> Q:
    """A row by the id this surface gives it: Civitai's, or the negated catalog id of a row Civitai never named."""
    return Q(civitai_id=public) if public > 0 else Q(pk=-public, civitai_id__isnull=True)


def bool_param(params, name: str) -> bool | None:
    value = params.get(name)
    if value is None:
        return None
    if value.lower() in ("true", "1"):
        return True
    if value.lower() in ("false", "0"):
        return False
    raise BadRequest(f"{name}: expected true or false, got {value!r:.40}")


def int_param(params, name: str, default: int, low: int, high: int | None = None) -> int:
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


def list_param(params, name: str) -> list[str]:
    values = []
    for raw in params.getlist(name) + params.getlist(f"{name}[]"):
        values.extend(v.strip() for v in raw.split(",") if v.strip())
    return values


def enum_values(params, name: str, known: frozenset[str], rows: QuerySet, field: str) -> list[str]:
    """The values of an enum parameter; one that is neither Civitai's nor held by the catalog (a newer source's
    value) is a 400 naming it, as Civitai answers a value outside its enum."""
    values = list_param(params, name)
    unknown = [value for value in values if value not in known]
    if unknown:
        held = set(rows.filter(**{f"{field}__in": unknown}).values_list(field, flat=True).distinct())
        unknown = [value for value in unknown if value not in held]
    if unknown:
        raise BadRequest(
            f"{name}: unknown value {unknown[0]!r:.80}; expected one of {', '.join(sorted(known))}"
        )
    return values


def models_filtered(params) -> QuerySet[Model]:
    """The visible models every parameter but the search asks for (models_list searches them)."""
    qs = Model.objects.visible()
    if params.get("tag"):
        qs = qs.filter(
            pk__in=Model.tags.through.objects.filter(tag__name__iexact=params["tag"]).values("model_id")
        )
    if params.get("username"):
        qs = qs.filter(creator__username__iexact=params["username"])
    types = enum_values(params, "types", CIVITAI_MODEL_TYPES, Model.objects.all(), "type")
    if types:
        qs = qs.filter(type__in=types)
    base_models = enum_values(
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
    if not bool_param(params, "nsfw"):
        qs = qs.filter(nsfw=False)
    for name, field in [
        ("allowNoCredit", "allow_no_credit"),
        ("allowDerivatives", "allow_derivatives"),
        ("allowDifferentLicense", "allow_different_license"),
    ]:
        value = bool_param(params, name)
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
    ids = list_param(params, "ids")
    if ids:
        if not all(i.lstrip("-").isascii() and i.lstrip("-").isdecimal() and len(i) < 12 for i in ids):
            raise BadRequest("ids: a comma-separated list of model ids")
        condition = Q(pk__in=[])
        for value in map(int, ids):
            condition |= lookup(value)
        qs = qs.filter(condition)
    return qs


def ordering_of(sort: str) -> tuple[str, str]:
    field, direction = SORTS[sort]
    return (f"-{field}", "-pk") if direction == "desc" else (field, "pk")


# What the schema says of ids and pages: as many digits as is_id and int_param take.
PUBLIC_ID = {"type": "integer", "minimum": -(10**12) + 1, "maximum": 10**12 - 1}


PAGE = {"type": "integer", "minimum": 1, "maximum": 10**12 - 1}


def is_id(value: str) -> bool:
    """Whether a path's id is a number this surface could have given out (public_id)."""
    digits = value.removeprefix("-")
    return digits.isdecimal() and digits.isascii() and len(digits) <= 12

"""One FilterSet for the model list: the list page and the API read the same parameters the same way."""

from __future__ import annotations

import re

import django_filters
from django import forms
from django.contrib.postgres.search import SearchQuery
from django.db import connection
from django.db.models import (
    BigIntegerField,
    Case,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Value,
    When,
)
from django.db.models.functions import Lower
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from catalog.models import (
    HASH_FORMATS,
    Availability,
    Model,
    ModelFile,
    ModelVersion,
    Provider,
    SourceRecord,
    Tag,
)
from catalog.pagination import (
    BadCursor,
    Page,
    cursor_decode,
    cursor_encode,
    cursor_for,
    keyset_after,
    keyset_order,
    keyset_page,
)

# sort value -> ordering; every ordering ends with a unique column so a cursor is stable.
SORTS = {
    "downloads": ("-download_count", "-id"),
    "newest": ("-published_at", "-id"),
    "favorites": ("-favorite_count", "-id"),
    "rating": ("-rating", "-id"),
    "images": ("-image_count", "-id"),
    "updated": ("-last_version_at", "-id"),
    "oldest": ("published_at", "id"),
    "name": ("name", "id"),
}
SORT_CHOICES = [
    ("downloads", "Most downloaded"),
    ("newest", "Newest"),
    ("favorites", "Most favorited"),
    ("rating", "Highest rated"),
    ("images", "Most images"),
    ("updated", "Recently updated"),
    ("oldest", "Oldest"),
    ("name", "Name"),
]
HEX = re.compile(r"^[0-9A-Fa-f]{8,64}$")


def files_with_hash(value: str) -> Q:
    """Files whose SHA256, AutoV1, AutoV2, AutoV3, CRC32 or BLAKE3 is this hash (stored upper-case)."""
    value = value.strip().upper()
    condition = Q(pk__in=[])
    for field, (_, pattern) in HASH_FORMATS.items():
        if re.match(pattern, value):
            condition |= Q(**{field: value})
    return condition


@extend_schema_field({"type": "array", "items": {"type": "string"}})
class FreeMultipleFilter(django_filters.MultipleChoiceFilter):
    """Several values of a data-driven vocabulary (types, base models, tags): any value is taken."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, choices=[], **kwargs)
        self.field_class = FreeMultipleField


class FreeMultipleField(django_filters.fields.MultipleChoiceField):
    def clean(self, value):
        # An empty box in a form (?exclude_tag=) means no value, not a bad one.
        return super().clean([v for v in (value or []) if v != ""])

    def valid_value(self, value):
        return isinstance(value, str) and 0 < len(value) <= 255


# Search ranks in tiers, then by popularity: the exact name; names containing the search; then models whose
# text (tags, trigger words, file names, description, creator) has its words, or a file with that hash. Each tier
# spans more than any download count.
TIER = 10**15
TIERS = 3
BY_DOWNLOADS = SORTS["downloads"]


def _full_text(value: str) -> Q:
    """The search's words in a model's search text: the stored tsvector on PostgreSQL, a substring on SQLite."""
    if connection.vendor == "postgresql":
        return Q(search_vector=SearchQuery(value, config="simple", search_type="websearch"))
    return Q(search_text__icontains=value)


def search_models(qs: QuerySet[Model], value: str) -> QuerySet[Model]:
    """Models matching a search, annotated with `relevance` (the tiers above, each by downloads).

    PostgreSQL: full text over name, creator, tags, trigger words, file names and description (a stored tsvector,
    GIN-indexed), and a substring of the name (a trigram index). Ranking reads only the name and the download
    count. SQLite: substring matches (no index; fine for an embedded catalog). Any file hash (SHA256,
    AutoV1/2/3, CRC32, BLAKE3) matches exactly. Names that are only alike (typos) do not match: as the lowest
    tier they outranked real matches by popularity, and finding them cost a scan of every similar name.
    """
    value = value.strip()[:200]
    lowered = value.lower()
    qs = qs.alias(name_lower=Lower("name"))
    tier = Case(
        When(name_lower=lowered, then=Value(2 * TIER)),
        When(name_lower__contains=lowered, then=Value(TIER)),
        default=Value(0),
        output_field=BigIntegerField(),
    )
    qs = qs.annotate(relevance=ExpressionWrapper(tier + F("download_count"), output_field=BigIntegerField()))
    condition = _full_text(value) | Q(name_lower__contains=lowered)
    if HEX.match(value):
        condition |= Exists(
            ModelFile.objects.filter(files_with_hash(value), version__model_id=OuterRef("pk"))
        )
    return qs.filter(condition)


def search_page(qs: QuerySet[Model], value: str, cursor: str | None, size: int) -> Page:
    """A page of search results in relevance order (search_models' tiers, each by downloads), read tier by tier:
    each tier walks the downloads index until the page is full, so a word in a fifth of the catalog costs what a
    rare one does. `qs` is search_models' queryset (with whatever the caller selects and prefetches); the
    cursor is the one keyset_page gives for ("-relevance", "-id"). Raises BadCursor for a foreign cursor."""
    value = value.strip()[:200]
    lowered = value.lower()
    after: tuple[int, int, int] | None = None
    if cursor:
        relevance, pk = cursor_decode(cursor)
        if not isinstance(relevance, int) or not 0 <= relevance < TIERS * TIER:
            raise BadCursor(cursor)
        after = (*divmod(relevance, TIER), pk)
    tiers = [
        (2, qs.filter(name_lower=lowered)),
        (1, qs.filter(name_lower__contains=lowered).exclude(name_lower=lowered)),
        (0, qs.exclude(name_lower__contains=lowered)),
    ]
    ids: list[int] = []
    for tier, branch in tiers:  # a query per tier on every first page, so its query count does not vary
        if after and tier > after[0]:
            continue
        ids_qs = keyset_order(branch.prefetch_related(None), BY_DOWNLOADS)
        if after and tier == after[0]:
            ids_qs = keyset_after(ids_qs, BY_DOWNLOADS, cursor_encode(after[1], after[2]))
        # A full page from every tier: with a small LIMIT PostgreSQL walks the downloads index even for a rare
        # word, and then reads most of the table to find it.
        ids += list(ids_qs.values_list("pk", flat=True)[: size + 1])
    rows_by_pk = {row.pk: row for row in qs.filter(pk__in=ids[:size])}
    rows = [rows_by_pk[pk] for pk in ids[:size] if pk in rows_by_pk]
    more = len(ids) > size
    return Page(rows=rows, next_cursor=cursor_for(rows[-1], ("-relevance", "-id")) if more and rows else None,
                is_first=not cursor)  # fmt: skip


def _tagged(tag: str) -> Exists:
    """Models carrying a tag, by name in any case. The tag's id is looked up first (one small query on the
    lower(name) index), so that the planner sees the id itself and knows from its statistics whether the tag is
    common (walk the sort's index, probing each model's (model, tag) pair) or rare (start from the tag's rows)."""
    tag_ids = list(
        Tag.objects.annotate(lname=Lower("name")).filter(lname=tag.lower()).values_list("pk", flat=True)
    )
    return Exists(Model.tags.through.objects.filter(model_id=OuterRef("pk"), tag_id__in=tag_ids))


class StrictBooleanField(forms.Field):
    """true/false (also 1/0, yes/no); anything else is an error naming the parameter, not silently ignored."""

    def to_python(self, value):
        if value in (None, ""):
            return None
        lowered = str(value).strip().lower()
        if lowered in ("true", "1", "yes", "on"):
            return True
        if lowered in ("false", "0", "no", "off"):
            return False
        raise forms.ValidationError(f"Expected true or false, got {str(value)[:40]!r}.")


@extend_schema_field(OpenApiTypes.BOOL)
class StrictBooleanFilter(django_filters.Filter):
    field_class = StrictBooleanField


class ModelFilterSet(django_filters.FilterSet):
    """Search, filters and sort of the model list."""

    query = django_filters.CharFilter(method="filter_query", max_length=200, label="Search")
    type = FreeMultipleFilter(method="filter_type", label="Type")
    base_model = FreeMultipleFilter(method="filter_base_model", label="Base model")
    tag = FreeMultipleFilter(method="filter_tag", label="Tag")
    exclude_tag = FreeMultipleFilter(method="filter_exclude_tag", label="Not tagged")
    creator = django_filters.CharFilter(method="filter_creator", max_length=255, label="Creator")
    provider = django_filters.ChoiceFilter(
        choices=Provider.choices, method="filter_provider", label="Provider"
    )
    commercial_use = StrictBooleanFilter(method="filter_commercial", label="Commercial use allowed")
    no_credit = StrictBooleanFilter(field_name="allow_no_credit", label="No credit needed")
    derivatives = StrictBooleanFilter(field_name="allow_derivatives", label="Derivatives allowed")
    nsfw = StrictBooleanFilter(field_name="nsfw", label="NSFW")
    availability = django_filters.MultipleChoiceFilter(choices=Availability.choices, label="Availability")
    featured = StrictBooleanFilter(field_name="featured", label="Featured")
    sort = django_filters.ChoiceFilter(
        choices=SORT_CHOICES, method="filter_sort", empty_label=None, label="Sort"
    )

    class Meta:
        model = Model
        fields: list[str] = []

    def filter_query(self, qs: QuerySet[Model], name: str, value: str) -> QuerySet[Model]:
        return search_models(qs, value) if value.strip() else qs

    def filter_type(self, qs, name, value):
        return qs.filter(type__in=value) if value else qs

    def filter_base_model(self, qs, name, value):
        if not value:
            return qs
        return qs.filter(Exists(ModelVersion.objects.filter(model_id=OuterRef("pk"), base_model__in=value)))

    def filter_tag(self, qs, name, value):
        for tag in value or []:
            qs = qs.filter(_tagged(tag))
        return qs

    def filter_exclude_tag(self, qs, name, value):
        for tag in value or []:
            qs = qs.exclude(_tagged(tag))
        return qs

    def filter_creator(self, qs, name, value):
        return qs.filter(creator__username__iexact=value.strip()) if value.strip() else qs

    def filter_provider(self, qs, name, value):
        return qs.filter(Exists(SourceRecord.objects.filter(model_id=OuterRef("pk"), provider=value)))

    def filter_commercial(self, qs, name, value):
        allowed = (
            Q(allow_commercial_image=True)
            | Q(allow_commercial_rent_civit=True)
            | Q(allow_commercial_rent=True)
            | Q(allow_commercial_sell=True)
        )
        return qs.filter(allowed) if value else qs.exclude(allowed)

    def filter_sort(self, qs, name, value):
        return qs  # ordering is applied by ordering_for(), which pagination reads too

    def ordering(self) -> tuple[str, ...]:
        """The ordering the sort parameter asks for: by relevance when searching, else most downloaded."""
        data = self.form.cleaned_data if self.is_bound and self.form.is_valid() else {}
        if data.get("sort"):
            return SORTS[data["sort"]]
        if (data.get("query") or "").strip():
            return ("-relevance", "-id")
        return SORTS["downloads"]

    @property
    def qs(self) -> QuerySet[Model]:
        return super().qs.order_by(*self.ordering())

    def search_value(self) -> str:
        data = self.form.cleaned_data if self.is_bound and self.form.is_valid() else {}
        return (data.get("query") or "").strip()

    def page(self, qs: QuerySet[Model], cursor: str | None, size: int) -> Page:
        """A page of `qs` (this FilterSet's queryset, with what the caller selects) in this FilterSet's order.
        Raises BadCursor for a cursor not given out here."""
        ordering = self.ordering()
        if ordering == ("-relevance", "-id") and self.search_value():
            return search_page(qs, self.search_value(), cursor, size)
        return keyset_page(qs, ordering, cursor, size)

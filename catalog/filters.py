"""One FilterSet for the model list: the list page and the API read the same parameters the same way."""

from __future__ import annotations

import re

import django_filters
from django import forms
from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVectorField, TrigramSimilarity
from django.db import connection
from django.db.models import Case, Exists, FloatField, Func, OuterRef, Q, QuerySet, Value, When
from django.db.models.functions import Lower
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from catalog.models import HASH_FORMATS, Availability, Model, ModelFile, ModelVersion, Provider, SourceRecord

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


class SimpleTsVector(Func):
    """to_tsvector('simple', search_text): the expression the GIN index is built on (no COALESCE, unlike
    SearchVector), so PostgreSQL can use the index."""

    template = "to_tsvector('simple'::regconfig, %(expressions)s)"
    output_field = SearchVectorField()


def search_models(qs: QuerySet[Model], value: str) -> QuerySet[Model]:
    """Models matching a search, annotated with `relevance` (an exact name first).

    PostgreSQL: full-text over name, creator, tags, trigger words, file names and description, plus trigram
    similarity and substring match on the name (both indexed). SQLite: a substring match (no index; fine for an
    embedded catalog). Any file hash (SHA256, AutoV1/2/3, CRC32, BLAKE3) matches exactly.
    """
    value = value.strip()[:200]
    lowered = value.lower()
    exact = Case(When(name__iexact=value, then=Value(10.0)), default=Value(0.0), output_field=FloatField())
    if connection.vendor == "postgresql":
        query = SearchQuery(value, config="simple", search_type="websearch")
        qs = qs.annotate(
            fts=SimpleTsVector("search_text"),
            relevance=exact
            + SearchRank(SimpleTsVector("search_text"), query)
            + TrigramSimilarity(Lower("name"), lowered),
        )
        condition = (
            Q(fts=query) | Q(**{"name_lower__trigram_similar": lowered}) | Q(name_lower__contains=lowered)
        )
        qs = qs.alias(name_lower=Lower("name"))
    else:
        qs = qs.annotate(relevance=exact)
        condition = Q(search_text__icontains=value) | Q(name__icontains=value)
    if HEX.match(value):
        condition |= Exists(
            ModelFile.objects.filter(files_with_hash(value), version__model_id=OuterRef("pk"))
        )
    return qs.filter(condition)


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
            qs = qs.filter(
                Exists(Model.tags.through.objects.filter(model_id=OuterRef("pk"), tag__name__iexact=tag))
            )
        return qs

    def filter_exclude_tag(self, qs, name, value):
        for tag in value or []:
            qs = qs.exclude(
                Exists(Model.tags.through.objects.filter(model_id=OuterRef("pk"), tag__name__iexact=tag))
            )
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

"""One FilterSet for the model list: the list page and the API read the same parameters the same way."""

from __future__ import annotations

from functools import cached_property

import django_filters
from django import forms
from django.db.models import Exists, OuterRef, QuerySet
from django.db.models.functions import Lower
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from catalog.models import Availability, Model, ModelVersion, Provider, SourceRecord, Tag
from catalog.pagination import Page, keyset_page, page_of
from catalog.search import BY_DOWNLOADS, MAX_LENGTH, RELEVANCE, search_models, search_page, searched_in_order
from catalog.selectors import LICENCE_FILTERS, models_brief

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
    ("downloads", "Most downloaded (Hugging Face: 30 days)"),
    ("newest", "Newest"),
    ("favorites", "Most favorited"),
    ("rating", "Highest rated"),
    ("images", "Most images"),
    ("updated", "Recently updated"),
    ("oldest", "Oldest"),
    ("name", "Name"),
]


@extend_schema_field({"type": "array", "items": {"type": "string", "maxLength": 255}})
class FreeMultipleFilter(django_filters.MultipleChoiceFilter):
    """Several values of a data-driven vocabulary (types, base models, tags): any value is taken."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, choices=[], **kwargs)
        self.field_class = FreeMultipleField


class FreeMultipleField(django_filters.fields.MultipleChoiceField):
    """Any value up to FREE_VALUE_LENGTH characters (a tag, type or base model is never longer)."""

    def clean(self, value):
        # An empty box in a form (?exclude_tag=) means no value, not a bad one.
        return super().clean([v for v in (value or []) if v != ""])

    def validate(self, value):
        for one in value or []:
            if isinstance(one, str) and len(one) > FREE_VALUE_LENGTH:
                raise forms.ValidationError(
                    "At most %(most)d characters a value; this one has %(length)d: %(start)s…",
                    code="too_long",
                    params={"most": FREE_VALUE_LENGTH, "length": len(one), "start": repr(one[:40])},
                )
        super().validate(value)

    def valid_value(self, value):
        return isinstance(value, str) and 0 < len(value) <= FREE_VALUE_LENGTH


FREE_VALUE_LENGTH = 255


def _tag_ids(tag: str) -> tuple[int, ...]:
    """The ids of the tags named `tag`, in any case (one small query on the lower(name) index)."""
    return tuple(
        Tag.objects.annotate(lname=Lower("name")).filter(lname=tag.lower()).values_list("pk", flat=True)
    )


def _tagged(tag_ids: tuple[int, ...]) -> Exists:
    """Models carrying one of these tags (_tag_ids: a tag by name). The ids are looked up first, so that the
    planner sees the ids themselves and knows from its statistics whether the tag is common (walk the sort's
    index, probing each model's (model, tag) pair) or rare (start from the tag's rows)."""
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

    query = django_filters.CharFilter(method="filter_query", max_length=MAX_LENGTH, label="Search")
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

    def __init__(self, data=None, queryset=None, *, request=None, prefix=None):
        """`queryset`: the models to filter; by default the visible ones as lists show them
        (selectors.models_brief)."""
        if queryset is None:
            queryset = models_brief(Model.objects.visible())
        super().__init__(data, queryset, request=request, prefix=prefix)

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
            qs = qs.filter(_tagged(_tag_ids(tag)))
        return qs

    def filter_exclude_tag(self, qs, name, value):
        for tag in value or []:
            qs = qs.exclude(_tagged(_tag_ids(tag)))
        return qs

    def filter_creator(self, qs, name, value):
        return qs.filter(creator__username__iexact=value.strip()) if value.strip() else qs

    def filter_provider(self, qs, name, value):
        return qs.filter(Exists(SourceRecord.objects.filter(model_id=OuterRef("pk"), provider=value)))

    def filter_commercial(self, qs, name, value):
        if value:
            return qs.filter(LICENCE_FILTERS["commercial"])
        # Stated as not allowed: a model whose permissions nobody stated is not counted as refusing them.
        return qs.filter(
            allow_commercial_image=False,
            allow_commercial_rent_civit=False,
            allow_commercial_rent=False,
            allow_commercial_sell=False,
        )

    def filter_sort(self, qs, name, value):
        return qs  # the order is the page's (ordering), which pagination reads too

    def ordering(self) -> tuple[str, ...]:
        """The ordering the sort parameter asks for: by relevance when searching, else most downloaded."""
        data = self.form.cleaned_data if self.is_valid() else {}
        if data.get("sort"):
            return SORTS[data["sort"]]
        if (data.get("query") or "").strip():
            return RELEVANCE
        return SORTS["downloads"]

    @property
    def qs(self) -> QuerySet[Model]:
        """The models the parameters ask for, in the sort asked for (a search without one: by downloads)."""
        ordering = self.ordering()
        return super().qs.order_by(*(BY_DOWNLOADS if ordering == RELEVANCE else ordering))

    @cached_property
    def unsearched(self) -> QuerySet[Model]:
        """The models every filter but the search leaves: a search's page reads its ways to match from them."""
        queryset = self.queryset.all()
        if not self.is_valid():
            return queryset
        for name, value in self.form.cleaned_data.items():
            if name != "query":
                queryset = self.filters[name].filter(queryset, value)
        return queryset

    def search_value(self) -> str:
        data = self.form.cleaned_data if self.is_valid() else {}
        return (data.get("query") or "").strip()

    def page(self, cursor: str | None, size: int) -> Page:
        """A page of this FilterSet's models in its order. Raises BadCursor for a cursor not given out here."""
        ordering, words = self.ordering(), self.search_value()
        if words and ordering == RELEVANCE:
            return search_page(self.unsearched, words, cursor, size)
        if words:
            rows = searched_in_order(self.unsearched, words, ordering, cursor, size)
            return page_of(list(rows), ordering, size, is_first=not cursor)
        return keyset_page(self.unsearched, ordering, cursor, size)

"""One FilterSet for the model list: the list page and the API read the same parameters the same way."""

from __future__ import annotations

import copy
import weakref
from collections.abc import Callable, Hashable
from datetime import UTC, datetime
from functools import cached_property
from typing import Any

import django_filters
from django import forms
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.search import SearchQuery
from django.db import connection
from django.db.models import (
    BooleanField,
    Case,
    Exists,
    F,
    Func,
    OuterRef,
    Q,
    QuerySet,
    TextField,
    When,
)
from django.db.models.functions import Lower
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from catalog.compiled import CompiledModels
from catalog.hashes import HEX, files_with_hash
from catalog.models import (
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
    cursor_position,
    keyset_after,
    keyset_order,
    page_of,
    rows_after,
)
from catalog.selectors import models_brief

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


class _PricedTextMatch(Func):
    """catalog_priced_text_match(search_vector), always true (migration 0012): beside a full-text match, it tells
    PostgreSQL what testing a model's search vector costs."""

    function = "catalog_priced_text_match"
    output_field = BooleanField()


def _priced(text_matches: QuerySet[Model]) -> QuerySet[Model]:
    """A search's full-text branch, on PostgreSQL with _PricedTextMatch beside its match.

    PostgreSQL prices testing a model's search vector as next to nothing, but the test reads the vector out of
    line (TOAST); it reads none through the full-text index. So it chose badly both ways to find matches:
    - a page in a sort: it walked the sort's index testing each model until a page of matches was found,
      assuming a word's matches spread evenly through the sort, while the matches of many words of middling
      frequency gather among the less downloaded;
    - counting a search's facets: it read the whole table, testing every vector, for a common word.
    The priced match, which PostgreSQL takes to hold for a third of the models and to cost 25 times an
    operator, leaves such walks and scans to the words that are common enough."""
    if connection.vendor != "postgresql":
        return text_matches
    return text_matches.filter(_PricedTextMatch(F("search_vector")))


class _NameBigrams(Func):
    """catalog_bigrams(name_lower) (migrations 0014, 0015): the two-letter pieces of a model's name,
    GIN-indexed."""

    function = "catalog_bigrams"
    output_field = ArrayField(TextField())


def _holding(named: QuerySet[Model], lowered: str) -> QuerySet[Model]:
    """Models of `named` whose name holds `lowered` (compared in lower case: Model.name_lower). Two letters,
    which no trigram of the name index serves, are asked of the bigram index too (PostgreSQL): otherwise a pair
    sorted by downloads walks the downloads index through a fifth of the names, growing with the catalog. A
    common pair ("an") is still found by walking, which the planner chooses from the index's statistics. The
    LIKE stays: the same models, the bigram only serves it."""
    holding = named.filter(name_lower__contains=lowered)
    if _two_letters(lowered):
        holding = holding.alias(name_bigrams=_NameBigrams(F("name_lower"))).filter(
            name_bigrams__contains=[lowered]
        )
    return holding


def _two_letters(lowered: str) -> bool:
    return len(lowered) == 2 and connection.vendor == "postgresql"


def search_models(qs: QuerySet[Model], value: str) -> QuerySet[Model]:
    """Models matching a search. search_page gives them in relevance order (the tiers above, each by downloads),
    each with its `relevance`; searched_in_order a page of them in a sort.

    PostgreSQL: full text over name, creator, tags, trigger words, file names and description (a stored tsvector,
    GIN-indexed), and a substring of the name (a trigram index). Ranking reads only the name and the download
    count. SQLite: substring matches (no index; fine for an embedded catalog). Any file hash (SHA256,
    AutoV1/2/3, CRC32, BLAKE3) matches exactly. Names that are only alike (typos) do not match: as the lowest
    tier they outranked real matches by popularity, and finding them cost a scan of every similar name.

    The two ways to match are asked apart (the ids of each, together): as one condition (text OR name),
    PostgreSQL has no index for it and reads every model's search text, and for a word of two letters, whose
    name match no trigram serves, it did.
    """
    return qs.filter(_any_of([branch.values("pk") for branch in _matches(qs, value)]))


def _matches(qs: QuerySet[Model], value: str) -> tuple[QuerySet[Model], QuerySet[Model]]:
    """The two ways a model of `qs` matches a search: its text (or a file's hash), and its name holding it."""
    value = value.strip()[:200]
    return _priced(qs.filter(_text_or_hash(value))), _holding(qs, value.lower())


def searched_in_order(
    qs: QuerySet[Model], value: str, ordering: tuple[str, ...], cursor: str | None, size: int
) -> QuerySet[Model]:
    """The first `size + 1` models of `qs` matching a search in a keyset `ordering` (pagination.keyset_order),
    after `cursor` (one keyset_page gives; BadCursor otherwise), in one query. Each way to match
    (search_models) gives its own first `size + 1` after the cursor in that order, and the page is the first of
    those together: PostgreSQL walks the sort's index for a common word and reads a rare one's few matches from
    its index, for each way apart. (As one condition it read every model's text for a word of two letters.)
    The rows have what `qs` selects."""
    branches = []
    for branch in _matches(qs, value):
        branch = keyset_order(branch, ordering)
        if cursor:
            branch = keyset_after(branch, ordering, cursor)
        branches.append(branch.values("pk")[: size + 1])
    return keyset_order(qs.filter(_any_of(branches)), ordering)[: size + 1]


def _text_or_hash(value: str) -> Q | Exists:
    """A search's words in the model's text, or (for hexadecimal) a file with that hash."""
    condition = _full_text(value)
    if HEX.match(value):
        condition |= Exists(
            ModelFile.objects.filter(files_with_hash(value), version__model_id=OuterRef("pk"))
        )
    return condition


def search_page(
    qs: QuerySet[Model] | Callable[[], QuerySet[Model]],
    value: str,
    cursor: str | None,
    size: int,
    *,
    key: Hashable | None = None,
) -> Page:
    """A page of search results in relevance order (search_models' tiers, each by downloads), in one query: each
    tier's ids (up to a page, the first `size + 1` by downloads: the tier walks the downloads index until the page
    is full, so a word in a fifth of the catalog costs what a rare one does), then the rows of those ids, in tier
    order, then by downloads. `qs` is the models the other filters leave, before the search (with whatever the
    caller selects); each row gets its `relevance` (its tier times TIER, plus its downloads). The cursor is the
    one keyset_page gives for ("-relevance", "-id"). Raises BadCursor for a foreign cursor.

    `key` names `qs` (the same key, the same models and columns: ModelFilterSet.search_key): a first page of a
    search that is not a hash is then read with SQL compiled once per key and page size (catalog/compiled.py).
    `qs` may be a function giving the models, called only when the SQL is built: such a page needs no queryset.
    """
    models = qs if callable(qs) else lambda: qs
    value = value.strip()[:200]
    after: tuple[int, int, int] | None = None
    if cursor:
        relevance, pk = cursor_decode(cursor)
        if not isinstance(relevance, int) or not 0 <= relevance < TIERS * TIER:
            raise BadCursor(cursor)
        after = (*divmod(relevance, TIER), pk)
    if key is not None and after is None and not HEX.match(value):
        rows = SEARCHES(
            ("relevance", key, size), lambda words: _search_rows(models(), words, None, size), value
        )
    else:
        rows = list(_search_rows(models(), value, after, size))
    for row in rows:
        row.relevance = row.tier * TIER + row.download_count
    return page_of(rows, ("-relevance", "-id"), size, is_first=not cursor)


def _search_rows(
    qs: QuerySet[Model], value: str, after: tuple[int, int, int] | None, size: int
) -> QuerySet[Model]:
    """search_page's query: `size + 1` rows after `after` (tier, downloads, id), each with its `tier`.

    A row's tier follows from its name alone (the exact search, a name holding it, or neither), so the rows
    query orders by it without being told which tier found it. A name tier is asked only its own condition: a
    name that is or holds the search matches it, so the full-text condition would add nothing to those two
    branches but its planning (about a millisecond each on PostgreSQL, which estimates the words' frequency from
    search_vector's statistics).

    On a first page a tier need not leave out the tiers above it: a row of a higher tier it holds takes the place
    of one of its own only when that row is on the page too, before all of them. After a cursor it must, or the
    rows of higher tiers past the cursor's downloads would come again (and leaving them out costs planning)."""
    lowered = value.lower()
    named_so, holds_it = qs.filter(name_lower=lowered), _holding(qs, lowered)
    full_text = _priced(qs.filter(_text_or_hash(value)))
    if after:
        holds_it, full_text = (
            holds_it.exclude(name_lower=lowered),
            full_text.exclude(name_lower__contains=lowered),
        )
    tiers = [(2, named_so), (1, holds_it), (0, full_text)]
    branches = []
    for tier, branch in tiers:  # every tier on every first page, so the query does not vary with the search
        if after and tier > after[0]:
            continue
        ids = keyset_order(branch, BY_DOWNLOADS)
        if after and tier == after[0]:
            ids = keyset_after(ids, BY_DOWNLOADS, cursor_encode(after[1], after[2]))
        # A full page from every tier: with a small LIMIT PostgreSQL walks the downloads index even for a rare
        # word, and then reads most of the table to find it.
        branches.append(ids.values("pk")[: size + 1])
    tier = Case(When(name_lower=lowered, then=2), When(name_lower__contains=lowered, then=1), default=0)
    return qs.filter(_any_of(branches)).annotate(tier=tier).order_by("-tier", *BY_DOWNLOADS)[: size + 1]


def _search_params(words: str) -> tuple[str, str, str]:
    """What a search's words become among _search_rows' parameters: themselves (full text), their lower case
    (the exact name; for two letters also the bigram asked, _holding), the LIKE pattern of a name holding
    them."""
    lowered = words.lower()
    return words, lowered, f"%{connection.ops.prep_for_like_query(lowered)}%"


class _Searches:
    """First pages of searches, by relevance (search_page) or in a sort (ModelFilterSet._first_rows, the Civitai
    search), the words put in; keys are tagged by who asks. The stand-in words are not hexadecimal (no hash
    lookup) and differ in lower case. Two letters compile their own SQL, which asks the bigram index
    (_holding)."""

    def __init__(self) -> None:
        self.words = CompiledModels(_search_params, ("Zq9StandIn",), keep_plans=True)
        self.two_letters = CompiledModels(_search_params, ("Zq",), keep_plans=True)

    def __call__(self, key: Hashable, build: Callable[[str], QuerySet[Model]], words: str) -> list[Model]:
        kept = self.two_letters if _two_letters(words.lower()) else self.words
        return kept(key, build, words)


SEARCHES = _Searches()
# Unsearched lists.
_LISTS = CompiledModels(lambda: (), (), keep_plans=True)
# Pages after a cursor of unsearched lists (ModelFilterSet._rows_after), the cursor's position put in: one kind
# of stand-in value for each type of field a sort orders by (a whole number inside every integer column's range:
# Django reads a bound beyond it as "no rows" and leaves it out of the SQL), and a stand-in id no model has.
_AFTER_STAND_IN_PK = -7_340_917_264_571
_LISTS_AFTER = {
    kind: CompiledModels(lambda value, pk: (value, pk), (stand_in, _AFTER_STAND_IN_PK), keep_plans=True)
    for kind, stand_in in [
        (int, 1_734_091_726),
        (float, -7_340_917_264_583.25),
        (str, "Zq9StandInAfter"),
        (datetime, datetime(1901, 2, 3, 4, 5, 6, 789_012, tzinfo=UTC)),
    ]
}


def _any_of(branches: list[QuerySet]) -> Q:
    """Models whose id one of these sliced id queries gives. PostgreSQL: one IN over their UNION ALL, a semi-join
    that reads each model by its primary key. SQLite, which cannot order or limit the parts of a UNION: an IN for
    each."""
    first, *rest = branches
    if rest and connection.features.supports_slicing_ordering_in_compound:
        return Q(pk__in=first.union(*rest, all=True))
    condition = Q(pk__in=first)
    for branch in rest:
        condition |= Q(pk__in=branch)
    return condition


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


class _SharedFields(dict):
    """A filter form's fields, which each form takes as they are instead of deep copies: Django copies a form's
    fields, widgets and choices for every form (a tenth of an API list's time here), so that a form may change its
    own. This form only cleans the request's parameters, which changes no field, and is never rendered (the list
    page writes its own controls)."""

    def __deepcopy__(self, memo: dict) -> dict:
        return dict(self)


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

    def __init__(self, data=None, queryset=None, *, request=None, prefix=None):
        """`queryset`: the models to filter; by default the visible ones as lists show them
        (selectors.models_brief), whose searches are compiled (search_key)."""
        self.listed = queryset is None
        # django-filter deep-copies every filter for each FilterSet, most of the cost of making one. A filter
        # holds its FilterSet (parent) and model, and a method
        # filter a FilterMethod bound to itself; the rest is set when the class is made and never changed. So:
        # shallow copies, with the method bound anew to the copy. A filter holds its FilterSet weakly: the FilterSet
        # holds its filters, and with the filters holding it back, it and all it had read (its querysets, a
        # list's rows) outlived the request until the garbage collector found the cycle.
        self.base_filters = {}  # this instance's own, empty: django-filter's __init__ has nothing to copy
        # django-filter wants a queryset now; the listed models' is built when first read (`queryset`).
        super().__init__(
            data, Model.objects if queryset is None else queryset, request=request, prefix=prefix
        )
        del self.base_filters
        parent = weakref.proxy(self)
        for name, base in type(self).base_filters.items():
            filter_ = copy.copy(base)
            filter_.__dict__.pop("_field", None)
            if base.method is not None:
                filter_.method = base.method
            filter_.model, filter_.parent = Model, parent
            self.filters[name] = filter_

    @property
    def queryset(self) -> QuerySet[Model]:
        """The models filtered: the caller's, or the visible ones as lists show them (selectors.models_brief),
        built when first read. A first page whose SQL is kept reads none (search_page, `_first_rows`)."""
        if self._queryset is None:
            self._queryset = models_brief(Model.objects.visible())
        return self._queryset

    @queryset.setter
    def queryset(self, queryset: QuerySet[Model]) -> None:
        # django-filter's __init__ sets it first, for the listed models to a stand-in (Model.objects) that the
        # getter replaces when first read; whatever is set afterwards is kept.
        self._queryset = None if self.listed and "_queryset" not in vars(self) else queryset

    _form_class: type[forms.Form] | None = None

    def get_form_class(self) -> type[forms.Form]:
        """The form of these filters, made once per process: django-filter makes a new form class for every
        FilterSet, and these filters never change. Its fields are shared by its forms (_SharedFields)."""
        cls = type(self)
        if cls.__dict__.get("_form_class") is None:
            form_class = super().get_form_class()
            form_class.base_fields = _SharedFields(form_class.base_fields)
            cls._form_class = form_class
        return cls._form_class

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
            qs = qs.filter(_tagged(self.tag_ids(tag)))
        return qs

    def filter_exclude_tag(self, qs, name, value):
        for tag in value or []:
            qs = qs.exclude(_tagged(self.tag_ids(tag)))
        return qs

    def tag_ids(self, tag: str) -> tuple[int, ...]:
        """The ids of the tags named `tag` (_tag_ids), read once per FilterSet: its search_key and its filters
        both ask."""
        known = self.__dict__.setdefault("_tag_ids", {})
        if tag not in known:
            known[tag] = _tag_ids(tag)
        return known[tag]

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
        if value:
            return qs.filter(allowed)
        # Stated as not allowed: a model whose permissions nobody stated is not counted as refusing them.
        return qs.filter(
            allow_commercial_image=False,
            allow_commercial_rent_civit=False,
            allow_commercial_rent=False,
            allow_commercial_sell=False,
        )

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
        """The models the parameters ask for, in the sort asked for. A search without a sort is ordered by
        downloads here: its relevance order is search_page's, which `page` gives."""
        ordering = self.ordering()
        return super().qs.order_by(*(BY_DOWNLOADS if ordering == ("-relevance", "-id") else ordering))

    def filter_queryset(self, queryset: QuerySet[Model]) -> QuerySet[Model]:
        """Every filter, the search last. django-filter's `qs` calls this with `self.queryset.all()`, from which
        `unsearched` starts too."""
        return self.filters["query"].filter(self.unsearched, self.form.cleaned_data.get("query"))

    @cached_property
    def unsearched(self) -> QuerySet[Model]:
        """The models every filter but the search leaves (search_page reads its tiers from them). `page` reads
        this, not `qs`: `qs` holds the search as one condition, which a page reads its own way (search_page,
        searched_in_order), and building it is the dearest part of building `qs`."""
        queryset = self.queryset.all()
        if not self.is_bound:
            return queryset
        _ = self.errors  # validates the form, as django-filter's `qs` does: cleaned_data has the valid values
        for name, value in self.form.cleaned_data.items():
            if name != "query":
                queryset = self.filters[name].filter(queryset, value)
        return queryset

    def search_value(self) -> str:
        data = self.form.cleaned_data if self.is_bound and self.form.is_valid() else {}
        return (data.get("query") or "").strip()

    def page(self, cursor: str | None, size: int) -> Page:
        """A page of this FilterSet's models in its order. Raises BadCursor for a cursor not given out here."""
        ordering, words = self.ordering(), self.search_value()
        if ordering == ("-relevance", "-id") and words:
            return search_page(lambda: self.unsearched, words, cursor, size, key=self.search_key())
        if cursor:
            if words:
                rows = list(searched_in_order(self.unsearched, words, ordering, cursor, size))
                return page_of(rows, ordering, size, is_first=False)
            return page_of(self._rows_after(ordering, cursor, size), ordering, size, is_first=False)
        return page_of(self._first_rows(ordering, size), ordering, size, is_first=True)

    def _rows_after(self, ordering: tuple[str, ...], cursor: str, size: int) -> list[Model]:
        """The `size + 1` models after `cursor` in `ordering`, read with SQL compiled once per search_key,
        ordering, size and type of the cursor's value (its position put in), as first pages are: a page 500 in
        cost what it took the ORM to build and compile its query on every request. Built as usual where
        search_key is None or the cursor is in the models without a value (a date), which come last."""
        value, pk = cursor_position(Model, ordering, cursor)
        key = self.search_key()
        compiled = _LISTS_AFTER.get(type(value))

        def build(value: Any, pk: int) -> QuerySet[Model]:
            return rows_after(keyset_order(self.unsearched, ordering), ordering, value, pk)[: size + 1]

        if key is None or compiled is None:
            return list(build(value, pk))
        return compiled((key, ordering, size), build, value, pk)

    def _first_rows(self, ordering: tuple[str, ...], size: int) -> list[Model]:
        """The first `size + 1` models in `ordering`, read with SQL compiled once per search_key, ordering and
        size (the words of a search put in); built as usual where search_key is None or the search is a hash."""
        key, words = self.search_key(), self.search_value()

        def build(*searched: str) -> QuerySet[Model]:
            if searched:
                return searched_in_order(self.unsearched, *searched, ordering, None, size)
            return keyset_order(self.unsearched, ordering)[: size + 1]

        if key is None or HEX.match(words):
            return list(build(words) if words else build())
        if words:
            return SEARCHES(("sorted", key, ordering, size), build, words)
        return _LISTS((key, ordering, size), build)

    # Filters that read the catalog to filter: a tag by name is the ids the catalog has for it now.
    TAG_FILTERS = frozenset({"tag", "exclude_tag"})

    def search_key(self) -> tuple | None:
        """What names the models a list or search here reads from (`unsearched`), for its SQL to be kept under
        (search_page, `_first_rows`, `_rows_after`): every filter's value, when the FilterSet reads its own
        models (`listed`); None otherwise. A key holds every value the SQL holds: a tag's are the ids its name
        has now (tag_ids, which the filter reads too), so a tag made again under a new id is a new key, never
        the old SQL. Values a client makes up (a type, a base model, a creator, a tag) make keys without end;
        each kept SQL is bounded in number (CompiledModels' `limit`), the ones used least lately forgotten."""
        if not self.listed:
            return None
        key = []
        for name, value in self.form.cleaned_data.items():
            if name in ("query", "sort") or value in (None, "", []):
                continue
            if name in self.TAG_FILTERS:
                value = [self.tag_ids(tag) for tag in value]
            key.append((name, tuple(value) if isinstance(value, list) else value))
        return tuple(key)

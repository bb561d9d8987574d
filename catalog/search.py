"""Search: which models match a search's words, and their pages in relevance order or in a sort.

A model matches in two ways, asked apart so that each meets its own index on PostgreSQL: its text (name, creator,
tags, trigger words, file names, description: a stored tsvector, GIN-indexed) holds the words, or a file has
that hash; or its name holds the search (a trigram index on the lower-case name; two letters, which no trigram
serves, a bigram index). As one condition (text OR name) no index serves it and every model's text is read.
SQLite matches substrings, without an index: fine for an embedded catalog.

Relevance ranks in tiers, then by downloads: the exact name, a name holding the search, then the rest.
"""

from __future__ import annotations

from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.search import SearchQuery
from django.db import connection
from django.db.models import BooleanField, Case, Exists, F, Func, OuterRef, Q, QuerySet, TextField, When

from catalog.hashes import HEX, files_with_hash
from catalog.models import Model, ModelFile
from catalog.pagination import (
    BadCursor,
    Page,
    cursor_decode,
    cursor_encode,
    keyset_after,
    keyset_order,
    page_of,
)

# Each tier spans more than any download count: relevance = tier * TIER + downloads.
TIER = 10**15
TIERS = 3
BY_DOWNLOADS = ("-download_count", "-id")
RELEVANCE = ("-relevance", "-id")
MAX_LENGTH = 200


class PricedTextMatch(Func):
    """catalog_priced_text_match(search_vector): always true, declared costly (the PostgreSQL-only migration).

    PostgreSQL prices testing a search vector as next to nothing, but the vector is stored out of line (TOAST)
    and each test reads it. Beside a full-text match, this tells the planner what the test costs, so that it
    walks a sort's index testing vectors only for words common enough to fill a page soon, and otherwise reads
    the matches from the full-text index."""

    function = "catalog_priced_text_match"
    output_field = BooleanField()


class NameBigrams(Func):
    """catalog_bigrams(name_lower): the two-letter pieces of a model's name, GIN-indexed (PostgreSQL)."""

    function = "catalog_bigrams"
    output_field = ArrayField(TextField())


def text_or_hash(value: str) -> Q:
    """The search's words in a model's text (PostgreSQL: the tsvector; SQLite: a substring), or, for hexadecimal,
    a file with that hash."""
    if connection.vendor == "postgresql":
        condition = Q(search_vector=SearchQuery(value, config="simple", search_type="websearch"))
    else:
        condition = Q(search_text__icontains=value)
    if HEX.match(value):
        condition |= Exists(
            ModelFile.objects.filter(files_with_hash(value), version__model_id=OuterRef("pk"))
        )
    return condition


def text_matching(qs: QuerySet[Model], value: str) -> QuerySet[Model]:
    """Models of `qs` whose text holds the words (or with a file of that hash), priced on PostgreSQL."""
    matching = qs.filter(text_or_hash(value))
    if connection.vendor == "postgresql":
        matching = matching.filter(PricedTextMatch(F("search_vector")))
    return matching


def name_holding(qs: QuerySet[Model], lowered: str) -> QuerySet[Model]:
    """Models of `qs` whose lower-case name holds `lowered`. Two letters also ask the bigram index (PostgreSQL);
    the LIKE stays, so the models are the same."""
    holding = qs.filter(name_lower__contains=lowered)
    if len(lowered) == 2 and connection.vendor == "postgresql":
        holding = holding.alias(name_bigrams=NameBigrams(F("name_lower"))).filter(
            name_bigrams__contains=[lowered]
        )
    return holding


def any_of(branches: list[QuerySet]) -> Q:
    """Models whose id one of these sliced id queries gives: on PostgreSQL one IN over their UNION ALL; on SQLite,
    which cannot order or limit the parts of a UNION, an IN for each."""
    first, *rest = branches
    if rest and connection.features.supports_slicing_ordering_in_compound:
        return Q(pk__in=first.union(*rest, all=True))
    condition = Q(pk__in=first)
    for branch in rest:
        condition |= Q(pk__in=branch)
    return condition


def search_models(qs: QuerySet[Model], value: str) -> QuerySet[Model]:
    """The models of `qs` matching a search, in no order (for counts and facets)."""
    value = value.strip()[:MAX_LENGTH]
    branches = [text_matching(qs, value), name_holding(qs, value.lower())]
    return qs.filter(any_of([branch.values("pk") for branch in branches]))


def searched_in_order(
    qs: QuerySet[Model], value: str, ordering: tuple[str, ...], cursor: str | None, size: int
) -> QuerySet[Model]:
    """The first `size + 1` models of `qs` matching a search in a keyset `ordering`, after `cursor` (BadCursor for
    a foreign one). Each way to match gives its own first `size + 1` in that order, and the page is the first of
    those together: for a common word PostgreSQL walks the sort's index, for a rare one it reads the matches
    from the word's index."""
    value = value.strip()[:MAX_LENGTH]
    branches = []
    for branch in (text_matching(qs, value), name_holding(qs, value.lower())):
        branch = keyset_order(branch, ordering)
        if cursor:
            branch = keyset_after(branch, ordering, cursor)
        branches.append(branch.values("pk")[: size + 1])
    return keyset_order(qs.filter(any_of(branches)), ordering)[: size + 1]


def search_page(qs: QuerySet[Model], value: str, cursor: str | None, size: int) -> Page:
    """A page of the models of `qs` matching a search, in relevance order, each with its `relevance`, in one
    query. The cursor is the one page_of gives for RELEVANCE; BadCursor for a foreign one."""
    value = value.strip()[:MAX_LENGTH]
    after: tuple[int, int, int] | None = None
    if cursor:
        relevance, pk = cursor_decode(cursor)
        if not isinstance(relevance, int) or not 0 <= relevance < TIERS * TIER:
            raise BadCursor(cursor)
        after = (*divmod(relevance, TIER), pk)
    rows = list(_relevance_rows(qs, value, after, size))
    for row in rows:
        row.relevance = row.tier * TIER + row.download_count
    return page_of(rows, RELEVANCE, size, is_first=not cursor)


def _relevance_rows(
    qs: QuerySet[Model], value: str, after: tuple[int, int, int] | None, size: int
) -> QuerySet[Model]:
    """`size + 1` rows after `after` (tier, downloads, id), each with its `tier`.

    Each tier gives its first `size + 1` ids by downloads (walking the downloads index for a common word, reading
    a rare word's few matches from its own index), and the rows of those ids are ordered by tier, then
    downloads. A row's tier follows from its name alone, so a name tier asks only its own condition. On a first
    page a tier need not leave out the tiers above it (a row found twice is one row); after a cursor it must, or
    the rows of higher tiers past the cursor's downloads would come again."""
    lowered = value.lower()
    named_so, holds_it, text = (
        qs.filter(name_lower=lowered),
        name_holding(qs, lowered),
        text_matching(qs, value),
    )
    if after:
        holds_it, text = holds_it.exclude(name_lower=lowered), text.exclude(name_lower__contains=lowered)
    branches = []
    for tier, branch in [(2, named_so), (1, holds_it), (0, text)]:
        if after and tier > after[0]:
            continue
        ids = keyset_order(branch, BY_DOWNLOADS)
        if after and tier == after[0]:
            ids = keyset_after(ids, BY_DOWNLOADS, cursor_encode(after[1], after[2]))
        branches.append(ids.values("pk")[: size + 1])
    tier = Case(When(name_lower=lowered, then=2), When(name_lower__contains=lowered, then=1), default=0)
    return qs.filter(any_of(branches)).annotate(tier=tier).order_by("-tier", *BY_DOWNLOADS)[: size + 1]

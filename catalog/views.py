"""Server-rendered catalog pages. Views parse the request and call selectors; they hold no business logic."""

from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.templatetags.static import static
from django.utils.cache import add_never_cache_headers

from catalog import selectors
from catalog.context_processors import nsfw_view
from catalog.filters import SORT_CHOICES, ModelFilterSet
from catalog.models import Creator, ModelType, ModelVersion, Tag
from catalog.pagination import BadCursor

PAGE_SIZE = 24
FACET_FILTERS = ("type", "base_model", "tag", "provider", "availability")
IMAGES_SHOWN = 12  # a version's images on its card until "Show all" is asked


def model_list(request: HttpRequest) -> HttpResponse:
    """The home page: every visible model as a card, searched, filtered and sorted by the one FilterSet."""
    return _list_page(request, heading="All models")


def _list_page(request: HttpRequest, *, heading: str, **fixed: str) -> HttpResponse:
    params = request.GET.copy()
    for key, value in fixed.items():
        params.setlist(key, [value])
    view = nsfw_view(request)
    if view == "hide" and "nsfw" not in params:
        params["nsfw"] = "false"  # NSFW models are hidden unless the viewer chose to see them
    filterset = ModelFilterSet(params)  # the visible models, as lists show them
    # What the filter form needs whatever the answer: an error page keeps the sorts and choices to go on from.
    form = {
        "filterset": filterset,
        "heading": heading,
        "selected": {name: params.getlist(name) for name in FACET_FILTERS},
        "types": ModelType.choices,
        "sorts": SORT_CHOICES,
        "selected_sort": params.get("sort", ""),
        "fixed": fixed,
    }
    if not filterset.is_valid():
        return render(request, "catalog/model_list.html", {**form, "page": None}, status=400)
    try:
        page = filterset.page(request.GET.get("cursor"), PAGE_SIZE)
    except BadCursor:
        return render(
            request, "catalog/model_list.html", {**form, "page": None, "bad_cursor": True}, status=400
        )
    keep = request.GET.copy()
    keep.pop("cursor", None)
    facet_key = params.urlencode()
    facets, current = selectors.model_facets(lambda: filterset.qs, key=facet_key)
    featured = []
    if page.is_first and not fixed and not request.GET.get("query"):
        featured = selectors.models_featured(filterset.qs)
    selectors.model_cards(page.rows + featured)
    matching = sum(n for _, n in facets["type"])  # every model has one type: the types' counts add up to all
    response = render(
        request,
        "catalog/model_list.html",
        {
            **form,
            "page": page,
            "featured": featured,
            "facets": facets,
            "matching": matching,
            "querystring": keep.urlencode(),
        },
    )
    if not current:  # counts from before the latest change: not an answer to keep
        add_never_cache_headers(response)
    return response


def model_detail(request: HttpRequest, pk: int, slug: str = "") -> HttpResponse:
    """A model's card: header, versions with download tables and image grids, description."""
    try:
        model = selectors.model_detail(pk)
    except Http404:
        survivor = selectors.merged_into(pk=pk)
        if survivor is None:
            raise
        return redirect(survivor.get_absolute_url(), permanent=True)  # merged: its card is the survivor's now
    if slug != model.slug:
        return redirect(model.get_absolute_url(), permanent=True)
    tags, versions = selectors.model_parts([model.pk])[model.pk]
    context = {
        "model": model,
        "tags": tags,
        "versions": versions,
        "show_all_images": request.GET.get("images") == "all",
        "images_shown": IMAGES_SHOWN,
    }
    return render(request, "catalog/model_detail.html", context)


INDEX_PAGE_SIZE = 100


def _name_index(
    request: HttpRequest, counted: tuple[list[tuple], bool], *, heading: str, url_name: str
) -> HttpResponse:
    """An index of names (tags, creators, base models) with how many visible models each has, most first, filtered
    by the `q` box (any part of the name, any case) and paged."""
    rows, current = counted
    query = request.GET.get("q", "").strip()[:100]
    entries = [(row[0], row[-1]) for row in rows if row[-1]]
    if query:
        entries = [entry for entry in entries if query.casefold() in entry[0].casefold()]
    page = Paginator(entries, INDEX_PAGE_SIZE).get_page(request.GET.get("page"))
    keep = request.GET.copy()
    keep.pop("page", None)
    response = render(
        request,
        "catalog/name_index.html",
        {
            "heading": heading,
            "page": page,
            "query": query,
            "url_name": url_name,
            "querystring": keep.urlencode(),
        },
    )
    if not current:
        add_never_cache_headers(response)
    return response


def tag_index(request: HttpRequest) -> HttpResponse:
    """Every tag, by how many models carry it."""
    return _name_index(request, selectors.tags_counted(), heading="Tags", url_name="catalog:tag")


def creator_index(request: HttpRequest) -> HttpResponse:
    """Every creator, by how many models they published."""
    return _name_index(request, selectors.creators_counted(), heading="Creators", url_name="catalog:creator")


def base_model_index(request: HttpRequest) -> HttpResponse:
    """Every base model, by how many models have a version on it."""
    return _name_index(
        request, selectors.base_models_counted(), heading="Base models", url_name="catalog:base_model"
    )


def tag_detail(request: HttpRequest, name: str) -> HttpResponse:
    """The list, filtered to one tag."""
    tag = get_object_or_404(Tag, name__iexact=name)
    return _list_page(request, heading=f"Tag: {tag.name}", tag=tag.name)


def creator_detail(request: HttpRequest, username: str) -> HttpResponse:
    """The list, filtered to one creator."""
    creator = Creator.objects.filter(username__iexact=username).first()
    if creator is None:
        raise Http404(f"No creator {username}")
    return _list_page(request, heading=f"Creator: {creator.username}", creator=creator.username)


def base_model_detail(request: HttpRequest, name: str) -> HttpResponse:
    """The list, filtered to one base model."""
    if not ModelVersion.objects.filter(base_model=name).exists():
        raise Http404(f"No base model {name}")
    return _list_page(request, heading=f"Base model: {name}", base_model=name)


def stats(request: HttpRequest) -> HttpResponse:
    """Counts by type and base model; for staff, the latest ingest runs."""
    stats, current = selectors.catalog_stats()
    runs = selectors.ingest_runs_recent() if request.user.is_staff else None
    response = render(request, "catalog/stats.html", {"stats": stats, "runs": runs})
    if not current:  # counts from before the latest change: not an answer to keep
        add_never_cache_headers(response)
    return response


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """The friendly 404 page; JSON under /api/ (Civitai's error shape under /api/v1/)."""
    if request.path.startswith("/api/v1/"):
        return JsonResponse({"error": f"Not found: {request.path}"}, status=404)
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": f"Not found: {request.path}"}, status=404)
    return render(request, "404.html", status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    """The 500 page; JSON under /api/ (Civitai's error shape under /api/v1/)."""
    if request.path.startswith("/api/v1/"):
        return JsonResponse({"error": "Server error; it was logged."}, status=500)
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "Server error; it was logged."}, status=500)
    return render(request, "500.html", status=500)


def favicon(request: HttpRequest) -> HttpResponse:
    """Browsers ask for /favicon.ico whatever the page says; resolved per request (the static manifest may not
    exist when URLs load)."""
    return redirect(static("favicon.svg"), permanent=True)

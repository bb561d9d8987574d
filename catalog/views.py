"""Server-rendered catalog pages. Views parse the request and call selectors; they hold no business logic."""

from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render

from catalog import selectors
from catalog.filters import SORT_CHOICES, ModelFilterSet
from catalog.models import Creator, Model, ModelType, Tag

PAGE_SIZE = 24


def model_list(request: HttpRequest) -> HttpResponse:
    """The home page: every visible model as a card, searched, filtered and sorted by the one FilterSet."""
    return _list_page(request, heading="All models")


def _list_page(request: HttpRequest, *, heading: str, **fixed: str) -> HttpResponse:
    params = request.GET.copy()
    for key, value in fixed.items():
        params.setlist(key, [value])
    filterset = ModelFilterSet(params, queryset=Model.objects.visible())
    qs = filterset.qs if filterset.is_valid() else Model.objects.none()
    if filterset.is_valid() and not params.get("sort"):
        qs = qs.order_by("-featured", *filterset.ordering())  # featured models first on the default sort
    page = Paginator(selectors.model_cards(qs), PAGE_SIZE).get_page(request.GET.get("page"))
    keep = request.GET.copy()
    keep.pop("page", None)
    return render(
        request,
        "catalog/model_list.html",
        {
            "page": page,
            "filterset": filterset,
            "filters": {"query": params.get("query", "")},
            "types": ModelType.choices,
            "sorts": SORT_CHOICES,
            "heading": heading,
            "querystring": keep.urlencode(),
            "selected_types": params.getlist("type"),
            "selected_sort": params.get("sort", ""),
        },
    )


def model_detail(request: HttpRequest, pk: int, slug: str = "") -> HttpResponse:
    """A model's card: header, versions with download tables and image grids, description."""
    model = selectors.model_detail(pk)
    if slug != model.slug:
        return redirect(model.get_absolute_url(), permanent=True)
    return render(request, "catalog/model_detail.html", {"model": model})


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


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """The friendly 404 page; JSON under /api/ (Civitai's error shape under /api/v1/)."""
    if request.path.startswith("/api/v1/"):
        return JsonResponse({"error": f"Not found: {request.path}"}, status=404)
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": f"Not found: {request.path}"}, status=404)
    return render(request, "404.html", status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    """The 500 page; JSON under /api/."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "Server error; it was logged."}, status=500)
    return render(request, "500.html", status=500)

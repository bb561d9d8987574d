"""Server-rendered catalog pages. Views parse the request and call selectors; they hold no business logic."""

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render

from catalog import selectors
from catalog.models import Creator, ModelType, Tag

PAGE_SIZE = 24


def model_list(request: HttpRequest) -> HttpResponse:
    """The home page: every visible model as a card, filtered by type, tag, creator or a name search."""
    filters = {key: request.GET.get(key, "").strip()[:200] for key in ("type", "tag", "creator", "query")}
    page = Paginator(selectors.model_list(**filters), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "catalog/model_list.html",
        {"page": page, "filters": filters, "types": ModelType.choices, "heading": "All models"},
    )


def model_detail(request: HttpRequest, pk: int, slug: str = "") -> HttpResponse:
    """A model's card: header, versions with download tables and image grids, description."""
    model = selectors.model_detail(pk)
    if slug != model.slug:
        return redirect(model.get_absolute_url(), permanent=True)
    return render(request, "catalog/model_detail.html", {"model": model})


def tag_detail(request: HttpRequest, name: str) -> HttpResponse:
    tag = get_object_or_404(Tag, name__iexact=name)
    return _filtered(request, heading=f"Tag: {tag.name}", tag=tag.name)


def creator_detail(request: HttpRequest, username: str) -> HttpResponse:
    creator = Creator.objects.filter(username__iexact=username).first()
    if creator is None:
        get_object_or_404(Creator, pk=-1)
    return _filtered(request, heading=f"Creator: {creator.username}", creator=creator.username)


def _filtered(request: HttpRequest, *, heading: str, **filters: str) -> HttpResponse:
    page = Paginator(selectors.model_list(**filters), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "catalog/model_list.html",
        {"page": page, "filters": filters, "types": ModelType.choices, "heading": heading},
    )

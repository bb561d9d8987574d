"""The catalog's own REST API under /api/: models, versions, files, images, tags, creators and hash lookups.
(Ingest runs and POST /api/ingest are the ingest app's: ingest/api.py.)"""

from __future__ import annotations

from django.conf import settings
from django.db.models import QuerySet
from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import CursorPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param

from catalog.api import serializers as s
from catalog.filters import ModelFilterSet
from catalog.hashes import HEX as HASH
from catalog.models import Creator, Image, Model, ModelFile, ModelVersion, Tag
from catalog.pagination import BadCursor
from catalog.selectors import (
    MAX_ID,
    VERSION_ROW,
    files_by_hashes,
    files_with_hash_rows,
    merged_into,
    model_detail,
    model_parts,
    models_brief,
    models_described,
    version_rows,
    with_files_and_images,
)


class ReadPermission(permissions.BasePermission):
    """Reads are public unless the catalog is private; writes go through their own views."""

    public_reads = True

    def has_permission(self, request, view):
        if settings.CATALOG_PRIVATE:
            return bool(request.user and request.user.is_authenticated)
        return request.method in permissions.SAFE_METHODS


class Cursor(CursorPagination):
    """Cursor pagination: constant time at any depth. A bad limit is a 400 naming it; a cursor this API never
    gave out is DRF's 404 ("Invalid cursor")."""

    page_size = 50
    page_size_query_param = "limit"
    max_page_size = 100
    ordering = ("-id",)

    def get_page_size(self, request):
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        if not raw.isdecimal() or not 1 <= int(raw) <= self.max_page_size:
            raise ValidationError({"limit": [f"A whole number from 1 to {self.max_page_size}."]})
        return int(raw)

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"].update(minimum=1, maximum=self.max_page_size)
        return parameters


class ModelCursor(Cursor):
    """The model list pages as the list page does, by the FilterSet (filters.ModelFilterSet.page): in the order
    the `sort` parameter asks for (models without a date or rating last) or, searching, by relevance; each page
    in constant time at any depth, forward only. (DRF's cursor paging pages by the sort value's text: it left out
    the models without a date in `oldest`, and could fail on "None" as a date in `newest`.)"""

    next_cursor: str | None = None

    def paginate_queryset(self, filterset, request, view=None):
        """The rows of the page the request asks for, from a ModelFilterSet (not a queryset)."""
        self.request = request
        self.page_size = self.get_page_size(request)
        self.base_url = request.build_absolute_uri()
        try:
            page = filterset.page(request.query_params.get(self.cursor_query_param), self.page_size)
        except BadCursor:
            raise NotFound(self.invalid_cursor_message) from None
        self.next_cursor = page.next_cursor
        self.display_page_controls = self.next_cursor is not None and self.template is not None
        return page.rows

    def get_next_link(self):
        if not self.next_cursor:
            return None
        return replace_query_param(self.base_url, self.cursor_query_param, self.next_cursor)

    def get_previous_link(self):
        return None


KNOWN_PARAMS = {"cursor", "limit", "format"}


class StrictParamsMixin:
    """An unknown query parameter is a 400 naming it, not silently ignored."""

    extra_params: set[str] = set()

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        allowed = KNOWN_PARAMS | self.extra_params
        filterset_class = getattr(self, "filterset_class", None)
        if filterset_class is not None:
            allowed |= set(filterset_class.base_filters)
        unknown = sorted(set(request.query_params) - allowed)
        if unknown:
            raise ValidationError(
                {name: [f"Unknown parameter. Known: {', '.join(sorted(allowed))}."] for name in unknown}
            )


class ModelViewSet(StrictParamsMixin, viewsets.ReadOnlyModelViewSet):
    """Models: the list takes the list page's search, filters and sort (one FilterSet); detail has everything."""

    permission_classes = [ReadPermission]
    filterset_class = ModelFilterSet
    pagination_class = ModelCursor

    def get_queryset(self) -> QuerySet[Model]:
        if self.action == "retrieve":
            return models_described(Model.objects.visible())
        return models_brief(Model.objects.visible())

    def get_object(self) -> Model:
        """The visible model of the URL's id (selectors.model_detail, the card's query); 404 for any other."""
        pk = self.kwargs["pk"]
        if not pk.isdecimal():
            raise NotFound(f"No model {pk[:40]!r}.")
        try:
            model = model_detail(int(pk))
        except Http404:
            survivor = merged_into(pk=int(pk))  # a model merged into another answers as the one it joined
            if survivor is None:
                raise NotFound(f"No model {pk}.") from None
            model = model_detail(survivor.pk)
        self.check_object_permissions(self.request, model)
        return model

    def retrieve(self, request: Request, *args, **kwargs) -> Response:
        """A model with everything (ModelSerializer's answer, written out from rows: serializers.model_data)."""
        model = self.get_object()
        tags, versions = model_parts([model.pk], *s.VERSION_EXTRA)[model.pk]
        return Response(s.model_data(model, tags, versions, request))

    def get_serializer_class(self):
        return s.ModelSerializer if self.action == "retrieve" else s.ModelBriefSerializer

    def list(self, request: Request, *args, **kwargs) -> Response:
        """A page of the models the FilterSet's parameters ask for, which ModelCursor reads from the FilterSet
        (its `qs`, the whole filtered queryset, is not built: a first page needs none of it). The FilterSet's
        own models are get_queryset's for a list: the visible ones, as lists show them."""
        filterset = ModelFilterSet(request.query_params, request=request)
        if not filterset.is_valid():
            raise ValidationError(filterset.errors)
        rows = self.paginate_queryset(filterset)
        # ModelBriefSerializer's answer, written out without the serializers: a list serializer and its child
        # hold each other, and so kept the page's models until the garbage collector came.
        return self.get_paginated_response(s.models_brief_data(rows))


class VersionViewSet(StrictParamsMixin, viewsets.ReadOnlyModelViewSet):
    """Versions with their files and images. `?model=<id>` lists one model's. The answers are VersionSerializer's,
    written out from rows (serializers.version_data) rather than by DRF's nested serializers, field by field."""

    permission_classes = [ReadPermission]
    serializer_class = s.VersionSerializer
    pagination_class = Cursor
    extra_params = {"model"}

    def get_queryset(self):
        qs = ModelVersion.objects.filter(model__hidden=False)
        model = self.request.query_params.get("model")
        if model is not None:
            if not model.isdecimal():
                raise ValidationError({"model": ["A model id (a whole number)."]})
            qs = qs.filter(model_id=int(model))
        return qs

    def list(self, request: Request, *args, **kwargs) -> Response:
        rows = self.paginate_queryset(self.get_queryset().values(*VERSION_ROW, *s.VERSION_EXTRA))
        return self.get_paginated_response(self._answers(with_files_and_images(rows)))

    def retrieve(self, request: Request, *args, **kwargs) -> Response:
        pk = self.kwargs["pk"]
        found = pk.isdecimal() and 0 < int(pk) <= MAX_ID
        rows = version_rows(self.get_queryset().filter(pk=int(pk)), *s.VERSION_EXTRA) if found else []
        if not rows:
            raise NotFound(f"No version {pk[:40]!r}.")
        return Response(self._answers(rows)[0])

    def _answers(self, rows: list[dict]) -> list[dict]:
        utc = s.in_utc()
        return [s.version_data(row, self.request, utc) for row in rows]


class FileViewSet(StrictParamsMixin, viewsets.ReadOnlyModelViewSet):
    """Files, and lookups by hash: SHA256, AutoV1, AutoV2, AutoV3, CRC32 or BLAKE3, any case."""

    permission_classes = [ReadPermission]
    serializer_class = s.FileSerializer
    pagination_class = Cursor

    def get_queryset(self):
        return ModelFile.objects.filter(version__model__hidden=False).select_related("version")

    @extend_schema(
        parameters=[
            OpenApiParameter("hash", OpenApiTypes.STR, OpenApiParameter.PATH, pattern="^[0-9A-Fa-f]{8,64}$")
        ],
        responses=s.FileSerializer(many=True),
    )
    @action(detail=False, methods=["get"], url_path=r"by-hash/(?P<hash>[^/]+)")
    def by_hash(self, request: Request, hash: str) -> Response:
        """Every file with this hash (one hash may match several files)."""
        if not HASH.match(hash):
            raise ValidationError(
                {"hash": ["8 to 64 hexadecimal digits (SHA256, AutoV1/2/3, CRC32 or BLAKE3)."]}
            )
        rows = files_with_hash_rows(hash)
        if not rows:
            return Response({"detail": f"No file has the hash {hash}."}, status=status.HTTP_404_NOT_FOUND)
        utc = s.in_utc()
        return Response([s.file_data(row, row["version__model_id"], utc) for row in rows])

    @extend_schema(
        request=s.HashLookupSerializer,
        responses=inline_serializer(
            "HashLookupResult", {"results": serializers.DictField(child=s.FileSerializer(many=True))}
        ),
    )
    @action(detail=False, methods=["post"], url_path="by-hash", permission_classes=[permissions.AllowAny])
    def by_hash_bulk(self, request: Request) -> Response:
        """Up to 1,000 hashes at once, in one query: {"results": {hash: [files]}}; unmatched hashes map to []."""
        if settings.CATALOG_PRIVATE and not request.user.is_authenticated:
            raise permissions.exceptions.NotAuthenticated()
        lookup = s.HashLookupSerializer(data=request.data)
        lookup.is_valid(raise_exception=True)
        matches = files_by_hashes(lookup.validated_data["hashes"])
        context = {"request": request}
        return Response(
            {
                "results": {
                    h: s.FileSerializer(files, many=True, context=context).data
                    for h, files in matches.items()
                }
            }
        )


class ImageViewSet(StrictParamsMixin, viewsets.ReadOnlyModelViewSet):
    """Sample images with their generation metadata. `?version=<id>` lists one version's."""

    permission_classes = [ReadPermission]
    serializer_class = s.ImageSerializer
    pagination_class = Cursor
    extra_params = {"version"}

    def get_queryset(self):
        qs = Image.objects.filter(version__model__hidden=False)
        version = self.request.query_params.get("version")
        if version is not None:
            if not version.isdecimal():
                raise ValidationError({"version": ["A version id (a whole number)."]})
            qs = qs.filter(version_id=int(version))
        return qs


class NamedCursor(Cursor):
    ordering = ("name", "id")


class TagViewSet(StrictParamsMixin, viewsets.ReadOnlyModelViewSet):
    """Tags, by name."""

    permission_classes = [ReadPermission]
    serializer_class = s.TagSerializer
    pagination_class = NamedCursor
    queryset = Tag.objects.all()


class UsernameCursor(Cursor):
    ordering = ("username", "id")


class CreatorViewSet(StrictParamsMixin, viewsets.ReadOnlyModelViewSet):
    """Creators, by username."""

    permission_classes = [ReadPermission]
    serializer_class = s.CreatorSerializer
    pagination_class = UsernameCursor
    queryset = Creator.objects.all()

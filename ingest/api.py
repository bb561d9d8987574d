"""The ingest app's part of the REST API: POST /api/ingest queues an ingest run of URLs and ids, and
/api/ingest-runs/ lists runs with their counts, failures and warnings (a token or an admin session)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from kombu.exceptions import OperationalError as BrokerError
from rest_framework import permissions, serializers, status, viewsets
from rest_framework.exceptions import APIException
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from catalog.api.views import Cursor, StrictParamsMixin
from catalog.models import IngestRun
from ingest.errors import IngestError
from ingest.pipeline import remote_source_check
from ingest.runs import ingest_run_create
from ingest.tasks import ingest_run_dispatch


class TokenOrStaff(permissions.BasePermission):
    """A DRF token (managed in admin), or an admin session."""

    message = "This needs an API token (Authorization: Token <key>) or an admin session."

    def has_permission(self, request, view):
        user = request.user
        return bool(user and user.is_authenticated and (request.auth is not None or user.is_staff))


class ServiceUnavailable(APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = "The task queue is not reachable; try again shortly."
    default_code = "service_unavailable"


class IngestRunSerializer(serializers.ModelSerializer):
    class Meta:
        model = IngestRun
        fields = [
            "id", "kind", "sources", "status", "created_count", "updated_count", "unchanged_count", "failed_count",
            "errors", "warnings", "attempts", "notes", "queued_at", "started_at", "finished_at",
        ]  # fmt: skip


class IngestRequestSerializer(serializers.Serializer):
    """POST /api/ingest: what to ingest."""

    sources = serializers.ListField(
        child=serializers.CharField(max_length=2048, allow_blank=False), min_length=1, max_length=1000
    )
    type = serializers.CharField(max_length=64, required=False, allow_blank=True)

    def validate_sources(self, sources: list[str]) -> list[str]:
        """Civitai and HuggingFace URLs and ids only: a path on the server is refused, naming it."""
        errors = {}
        for i, source in enumerate(sources):
            try:
                remote_source_check(source.strip())
            except IngestError as exc:
                errors[i] = [f"{source[:200]!r}: {exc.message}"]
        if errors:
            raise serializers.ValidationError(errors)
        return [source.strip() for source in sources]


class IngestRunViewSet(StrictParamsMixin, viewsets.ReadOnlyModelViewSet):
    """Ingest runs (a token or an admin session): status, counts, and each failure with its input."""

    permission_classes = [TokenOrStaff]
    serializer_class = IngestRunSerializer
    pagination_class = Cursor
    queryset = IngestRun.objects.all()


class IngestView(APIView):
    """POST /api/ingest {"sources": [...]}: queue an ingest run and answer it (202)."""

    permission_classes = [TokenOrStaff]

    @extend_schema(request=IngestRequestSerializer, responses={202: IngestRunSerializer})
    def post(self, request: Request) -> Response:
        body = IngestRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        run = ingest_run_create(
            kind="ingest",
            sources=body.validated_data["sources"],
            requested_by=request.user,
            model_type=body.validated_data.get("type", ""),
        )
        try:
            ingest_run_dispatch(run)
        except BrokerError as exc:
            raise ServiceUnavailable(
                f"The task queue is not reachable, so ingest run #{run.pk} could not start; try again shortly."
            ) from exc
        run.refresh_from_db()
        return Response(IngestRunSerializer(run).data, status=status.HTTP_202_ACCEPTED)

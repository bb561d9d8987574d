"""The ingest app's API routes, under /api/ (config/urls.py)."""

from django.urls import include, path, re_path
from rest_framework.routers import DefaultRouter

from ingest import api

router = DefaultRouter(trailing_slash="/?")
router.register("ingest-runs", api.IngestRunViewSet, basename="ingestrun")

app_name = "ingest_api"

urlpatterns = [
    re_path(r"^ingest/?$", api.IngestView.as_view(), name="ingest"),
    path("", include(router.urls)),
]

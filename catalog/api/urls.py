"""The catalog's own API (/api/) and its OpenAPI schema."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.routers import DefaultRouter

from catalog.api import views

router = DefaultRouter(trailing_slash="/?")
router.register("models", views.ModelViewSet, basename="model")
router.register("versions", views.VersionViewSet, basename="version")
router.register("files", views.FileViewSet, basename="file")
router.register("images", views.ImageViewSet, basename="image")
router.register("tags", views.TagViewSet, basename="tag")
router.register("creators", views.CreatorViewSet, basename="creator")

app_name = "api"

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api:schema"), name="docs"),
    path("v1/", include("catalog.api.v1.urls")),
    path("", include(router.urls)),
]

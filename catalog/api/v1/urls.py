"""The Civitai API v1-compatible surface, under /api/v1/."""

from django.urls import path, re_path

from catalog.api.v1 import views

urlpatterns = [
    path("models", views.models_list, name="civitai-models"),
    re_path(r"^models/(?P<model_id>[^/]+)$", views.model_detail, name="civitai-model"),
    re_path(r"^model-versions/(?P<version_id>[^/]+)$", views.version_detail, name="civitai-version"),
    path("model-versions/by-hash/<str:hash>", views.version_by_hash, name="civitai-version-by-hash"),
    path("tags", views.tags_list, name="civitai-tags"),
    path("creators", views.creators_list, name="civitai-creators"),
    # Every other path: Civitai's JSON 404, whatever DEBUG says.
    re_path(r"^(?P<rest>.*)$", views.not_found, name="civitai-not-found"),
]

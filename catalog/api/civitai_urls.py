"""The Civitai API v1-compatible surface, under /api/v1/."""

from django.urls import path, re_path

from catalog.api import civitai

urlpatterns = [
    path("models", civitai.models_list, name="civitai-models"),
    re_path(r"^models/(?P<model_id>[^/]+)$", civitai.model_detail, name="civitai-model"),
    re_path(r"^model-versions/(?P<version_id>[^/]+)$", civitai.version_detail, name="civitai-version"),
    path("model-versions/by-hash/<str:hash>", civitai.version_by_hash, name="civitai-version-by-hash"),
    path("tags", civitai.tags_list, name="civitai-tags"),
    path("creators", civitai.creators_list, name="civitai-creators"),
    # Every other path: Civitai's JSON 404, whatever DEBUG says.
    re_path(r"^(?P<rest>.*)$", civitai.not_found, name="civitai-not-found"),
]

"""The Civitai API v1-compatible surface, under /api/v1/."""

from django.urls import path, re_path

from catalog.api import civitai

urlpatterns = [
    path("models", civitai.models_list, name="civitai-models"),
    re_path(r"^models/(?P<model_id>-?\d{1,12})$", civitai.model_detail, name="civitai-model"),
    re_path(r"^model-versions/(?P<version_id>-?\d{1,12})$", civitai.version_detail, name="civitai-version"),
    path("model-versions/by-hash/<str:hash>", civitai.version_by_hash, name="civitai-version-by-hash"),
    path("tags", civitai.tags_list, name="civitai-tags"),
    path("creators", civitai.creators_list, name="civitai-creators"),
]

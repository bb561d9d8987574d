"""Catalog pages."""

from django.urls import path

from catalog import views

app_name = "catalog"

urlpatterns = [
    path("", views.model_list, name="model_list"),
    path("models/<int:pk>/", views.model_detail, name="model_detail_bare"),
    path("models/<int:pk>/<str:slug>/", views.model_detail, name="model_detail"),
    path("tags/", views.tag_index, name="tag_index"),
    path("creators/", views.creator_index, name="creator_index"),
    path("base-models/", views.base_model_index, name="base_model_index"),
    path("tags/<path:name>/", views.tag_detail, name="tag"),
    path("creators/<path:username>/", views.creator_detail, name="creator"),
    path("base-models/<path:name>/", views.base_model_detail, name="base_model"),
    path("stats/", views.stats, name="stats"),
]

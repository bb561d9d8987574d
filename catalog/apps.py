from django.apps import AppConfig


class CatalogConfig(AppConfig):
    """The catalog's domain: models, versions, files, images, tags, creators; admin, pages and API."""

    name = "catalog"
    default_auto_field = "django.db.models.BigAutoField"

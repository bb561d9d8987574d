from django.apps import AppConfig


class CatalogConfig(AppConfig):
    """The catalog's domain: models, versions, files, images, tags, creators; admin, pages and API."""

    name = "catalog"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.db.models import Field

        from catalog.lookups import AnyOf

        Field.register_lookup(AnyOf)

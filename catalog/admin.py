"""Django admin: curate models (hide, feature, merge), browse versions, files, images, tags and creators. (Ingest
runs, the ingest form and re-sync are the ingest app's: ingest/admin.py.)"""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.models import CHANGE, LogEntry
from django.db import models as db_models
from django.db import transaction
from django.db.models import Count, OuterRef, QuerySet, Subquery
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.utils.html import format_html

from catalog import services
from catalog.models import (
    Creator,
    Image,
    Model,
    ModelFile,
    ModelVersion,
    Provider,
    SourceRecord,
    Tag,
)

# URLs typed without a scheme mean https (Django 6's default, chosen now).
URL_FIELDS = {db_models.URLField: {"assume_scheme": "https"}}


class CatalogDataAdmin(admin.ModelAdmin):
    """An admin of the catalog's own data: whatever it saves or deletes tells the catalog it changed, so facet
    counts are computed afresh once the change commits."""

    formfield_overrides = URL_FIELDS

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)  # after save_model: the last write of a save
        transaction.on_commit(services.catalog_changed)

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        transaction.on_commit(services.catalog_changed)

    def delete_queryset(self, request, queryset):
        super().delete_queryset(request, queryset)
        transaction.on_commit(services.catalog_changed)


def _thumbnail(path: str | None) -> str:
    from django.core.files.storage import default_storage

    if path:
        return format_html(
            '<img src="{}" alt="" style="height:48px;border-radius:4px">', default_storage.url(path)
        )
    return "—"


class BaseModelFilter(admin.SimpleListFilter):
    """Models with a version on this base model (SD 1.5, SDXL 1.0, Pony, ...)."""

    title = "base model"
    parameter_name = "base_model"

    def lookups(self, request, model_admin):
        values = (
            ModelVersion.objects.exclude(base_model="")
            .values_list("base_model", flat=True)
            .distinct()
            .order_by()
        )
        return [(v, v) for v in sorted(set(values))]

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(
                pk__in=ModelVersion.objects.filter(base_model=self.value()).values("model_id")
            )
        return queryset


class TagFilter(admin.SimpleListFilter):
    """The 40 most used tags (a catalog has thousands; search finds the rest)."""

    title = "tag"
    parameter_name = "tag"

    def lookups(self, request, model_admin):
        top = Tag.objects.annotate(n=Count("models")).order_by("-n", "name")[:40]
        return [(t.name, t.name) for t in top]

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(
                pk__in=Model.tags.through.objects.filter(tag__name=self.value()).values("model_id")
            )
        return queryset


class ProviderFilter(admin.SimpleListFilter):
    """Where a model came from."""

    title = "provider"
    parameter_name = "provider"

    def lookups(self, request, model_admin):
        return Provider.choices

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(
                pk__in=SourceRecord.objects.filter(provider=self.value()).values("model_id")
            )
        return queryset


class ModelVersionInline(admin.TabularInline):
    formfield_overrides = URL_FIELDS
    model = ModelVersion
    fields = ["position", "name", "base_model", "civitai_id", "published_at", "download_count"]
    readonly_fields = ["civitai_id", "published_at", "download_count"]
    extra = 0
    show_change_link = True
    ordering = ["position"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("model")  # each row's label names its model


class SourceRecordInline(admin.TabularInline):
    formfield_overrides = URL_FIELDS
    model = SourceRecord
    fields = ["provider", "external_id", "url", "fetched_at", "last_error"]
    readonly_fields = fields
    extra = 0
    can_delete = False


@admin.register(Model)
class ModelAdmin(CatalogDataAdmin):
    list_display = [
        "cover",
        "name",
        "type",
        "creator",
        "availability",
        "hidden",
        "featured",
        "download_count",
    ]
    list_display_links = ["cover", "name"]
    list_filter = [
        "type", BaseModelFilter, TagFilter, "nsfw", "hidden", "featured", ProviderFilter, "availability",
    ]  # fmt: skip
    list_select_related = ["creator"]
    search_fields = ["name", "=civitai_id", "hf_repo_id", "creator__username"]
    autocomplete_fields = ["creator", "tags"]
    readonly_fields = ["created_at", "updated_at", "image_count", "published_at", "last_version_at"]
    inlines = [ModelVersionInline, SourceRecordInline]
    actions = ["hide", "unhide", "feature", "unfeature", "merge"]
    list_per_page = 50
    show_full_result_count = (
        False  # an exact COUNT(*) over 100,000 filtered rows on every page is wasted work
    )
    fieldsets = [
        (None, {"fields": ["name", "slug", "type", "creator", "tags", "description"]}),
        ("Curation", {"fields": ["hidden", "featured", "admin_notes"]}),
        ("Source", {"fields": ["civitai_id", "hf_repo_id", "availability", "source_availability"]}),
        ("Content", {"fields": ["nsfw", "nsfw_level", "poi", "minor"]}),
        (
            "Licence",
            {
                "fields": [
                    "allow_no_credit",
                    "allow_derivatives",
                    "allow_different_license",
                    "allow_commercial_image",
                    "allow_commercial_rent_civit",
                    "allow_commercial_rent",
                    "allow_commercial_sell",
                    "license",
                ]
            },
        ),
        (
            "Stats",
            {
                "classes": ["collapse"],
                "fields": [
                    "download_count",
                    "favorite_count",
                    "thumbs_up_count",
                    "thumbs_down_count",
                    "comment_count",
                    "rating_count",
                    "rating",
                    "tipped_amount_count",
                    "image_count",
                    "published_at",
                    "last_version_at",
                    "created_at",
                    "updated_at",
                ],
            },
        ),
    ]

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        services.model_search_text_refresh(form.instance)  # names, tags or versions may have changed

    def get_queryset(self, request: HttpRequest) -> QuerySet[Model]:
        cover = (
            Image.objects.filter(version__model=OuterRef("pk"))
            .exclude(thumbnail="")
            .order_by("version__position", "position")
            .values("thumbnail")[:1]
        )
        return super().get_queryset(request).annotate(cover_thumbnail=Subquery(cover))

    @admin.display(description="")
    def cover(self, obj: Model) -> str:
        return _thumbnail(getattr(obj, "cover_thumbnail", None))

    def log_bulk(self, request, models, message: str) -> None:
        """A bulk action in each model's admin History, as a change made by this user."""
        LogEntry.objects.log_actions(request.user.pk, list(models), CHANGE, message)

    @admin.action(description="Hide selected models")
    def hide(self, request, queryset):
        models = list(queryset.filter(hidden=False))
        n = services.models_set_hidden(models=queryset, hidden=True)
        self.log_bulk(request, models, "Hidden (bulk action).")
        self.message_user(request, f"Hid {n} model(s).")

    @admin.action(description="Unhide selected models")
    def unhide(self, request, queryset):
        models = list(queryset.filter(hidden=True))
        n = services.models_set_hidden(models=queryset, hidden=False)
        self.log_bulk(request, models, "Shown again (bulk action).")
        self.message_user(request, f"Unhid {n} model(s).")

    @admin.action(description="Feature selected models")
    def feature(self, request, queryset):
        models = list(queryset.filter(featured=False))
        n = services.models_set_featured(models=queryset, featured=True)
        self.log_bulk(request, models, "Featured (bulk action).")
        self.message_user(request, f"Featured {n} model(s).")

    @admin.action(description="Stop featuring selected models")
    def unfeature(self, request, queryset):
        models = list(queryset.filter(featured=True))
        n = services.models_set_featured(models=queryset, featured=False)
        self.log_bulk(request, models, "No longer featured (bulk action).")
        self.message_user(request, f"Stopped featuring {n} model(s).")

    @admin.action(description="Merge selected models into the oldest one")
    def merge(self, request, queryset):
        """Asks first: a page lists what moves where and warns when types or base models differ."""
        models = list(queryset.order_by("pk"))
        if len(models) < 2:
            self.message_user(request, "Select two or more models to merge.", messages.WARNING)
            return None
        target, duplicates = models[0], models[1:]
        if request.POST.get("confirm") != "yes":
            context = {
                **self.admin_site.each_context(request),
                "title": "Merge models?",
                "opts": self.opts,
                "plan": services.model_merge_plan(target=target, duplicates=duplicates),
                "selected": [m.pk for m in models],
                "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            }
            return TemplateResponse(request, "admin/catalog/model/merge_confirmation.html", context)
        target = services.model_merge(target=target, duplicates=duplicates)
        names = ", ".join(f"“{d.name}” (#{d.pk})" for d in duplicates)
        self.log_bulk(request, [target], f"Merged {names} into this model.")
        self.message_user(request, f"Merged {len(duplicates)} model(s) into “{target.name}” (#{target.pk}).")
        return None


class ModelFileInline(admin.TabularInline):
    formfield_overrides = URL_FIELDS
    model = ModelFile
    fields = ["name", "kind", "format", "precision", "size_bytes", "is_primary", "hash_sha256", "hash_autov2"]
    extra = 0


class ImageInline(admin.TabularInline):
    formfield_overrides = URL_FIELDS
    model = Image
    fields = ["preview", "url", "nsfw_level", "width", "height", "position", "mirror_status"]
    readonly_fields = ["preview", "mirror_status"]
    extra = 0

    @admin.display(description="")
    def preview(self, obj: Image) -> str:
        return _thumbnail(obj.thumbnail.name if obj.thumbnail else None)


@admin.register(ModelVersion)
class ModelVersionAdmin(CatalogDataAdmin):
    list_display = ["name", "model", "base_model", "civitai_id", "position", "published_at"]
    list_filter = ["base_model"]
    list_select_related = ["model"]
    search_fields = ["name", "model__name", "=civitai_id"]
    raw_id_fields = ["model"]
    inlines = [ModelFileInline, ImageInline]
    show_full_result_count = False


@admin.register(ModelFile)
class ModelFileAdmin(CatalogDataAdmin):
    list_display = [
        "name",
        "version",
        "kind",
        "format",
        "precision",
        "size_bytes",
        "hash_autov2",
        "is_primary",
    ]
    list_filter = ["kind", "format", "precision", "pickle_scan_result", "virus_scan_result"]
    list_select_related = ["version", "version__model"]
    search_fields = ["name", "=hash_sha256", "=hash_autov2", "=hash_autov1", "=hash_autov3", "=hash_crc32"]
    raw_id_fields = ["version"]
    show_full_result_count = False


@admin.register(Image)
class ImageAdmin(CatalogDataAdmin):
    list_display = ["preview", "version", "nsfw_level", "width", "height", "mirror_status"]
    list_filter = ["mirror_status", "nsfw_level", "media_type"]
    list_select_related = ["version", "version__model"]
    search_fields = ["prompt", "url", "=civitai_id"]
    raw_id_fields = ["version"]
    show_full_result_count = False

    @admin.display(description="")
    def preview(self, obj: Image) -> str:
        return _thumbnail(obj.thumbnail.name if obj.thumbnail else None)


class ModelCountMixin:
    """A "models" column counted in the changelist's one query."""

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(n=Count("models"))

    @admin.display(description="models", ordering="n")
    def model_count(self, obj) -> int:
        return obj.n


@admin.register(Tag)
class TagAdmin(ModelCountMixin, CatalogDataAdmin):
    list_display = ["name", "model_count"]
    search_fields = ["name"]


@admin.register(Creator)
class CreatorAdmin(ModelCountMixin, CatalogDataAdmin):
    list_display = ["username", "provider", "model_count"]
    list_filter = ["provider"]
    search_fields = ["username"]


@admin.register(SourceRecord)
class SourceRecordAdmin(CatalogDataAdmin):
    list_display = ["provider", "external_id", "model", "fetched_at"]
    list_filter = ["provider"]
    list_select_related = ["model"]
    search_fields = ["external_id", "url", "model__name"]
    raw_id_fields = ["model"]

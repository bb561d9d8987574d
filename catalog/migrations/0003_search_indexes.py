"""PostgreSQL search indexes: full-text (GIN over a 'simple' tsvector of Model.search_text) and trigram (GIN over
lower(name)). SQLite has neither; search falls back to LIKE there."""

from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations

from catalog.migrations._postgresql import run_on_postgresql

CREATE = [
    "CREATE INDEX IF NOT EXISTS model_search_fts_idx ON catalog_model "
    "USING gin (to_tsvector('simple'::regconfig, search_text))",
    "CREATE INDEX IF NOT EXISTS model_name_trgm_idx ON catalog_model USING gin (lower(name) gin_trgm_ops)",
    "CREATE INDEX IF NOT EXISTS tag_name_lower_idx ON catalog_tag (lower(name))",
]
DROP = [
    "DROP INDEX IF EXISTS model_search_fts_idx",
    "DROP INDEX IF EXISTS model_name_trgm_idx",
    "DROP INDEX IF EXISTS tag_name_lower_idx",
]


def backfill_search_text(apps, schema_editor):
    """Catalogs ingested before search_text existed: fill it (the writer keeps it up to date from here on)."""
    from django.utils.html import strip_tags

    Model = apps.get_model("catalog", "Model")
    ModelFile = apps.get_model("catalog", "ModelFile")
    for model in Model.objects.filter(search_text="").select_related("creator").iterator(chunk_size=500):
        parts = [model.name, model.creator.username if model.creator_id else ""]
        parts += list(model.tags.values_list("name", flat=True))
        for name, base_model, words in model.versions.values_list("name", "base_model", "trained_words"):
            parts += [name, base_model, *(w for w in (words or []) if isinstance(w, str))]
        parts += list(ModelFile.objects.filter(version__model=model).values_list("name", flat=True))
        parts.append(strip_tags(model.description)[:20_000])
        Model.objects.filter(pk=model.pk).update(search_text="\n".join(p for p in parts if p))


class Migration(migrations.Migration):
    dependencies = [("catalog", "0002_model_search_text")]

    operations = [
        migrations.RunPython(backfill_search_text, migrations.RunPython.noop),
        TrigramExtension(),
        migrations.RunPython(run_on_postgresql(CREATE), run_on_postgresql(DROP)),
    ]

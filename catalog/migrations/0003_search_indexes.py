"""PostgreSQL search indexes: full-text (GIN over a 'simple' tsvector of Model.search_text) and trigram (GIN over
lower(name)). SQLite has neither; search falls back to LIKE there."""

from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations

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


def run(statements):
    def apply(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for statement in statements:
            schema_editor.execute(statement)

    return apply


class Migration(migrations.Migration):
    dependencies = [("catalog", "0002_model_search_text")]

    operations = [
        TrigramExtension(),
        migrations.RunPython(run(CREATE), run(DROP)),
    ]

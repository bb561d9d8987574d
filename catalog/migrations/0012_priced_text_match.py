"""catalog_priced_text_match(tsvector): a function that always answers true, which catalog/filters.py puts beside a
search's full-text match (filters._priced says why and what it measured). PostgreSQL only. PL/pgSQL, so that it
is not inlined (an inlined function loses its cost); not STRICT, so that it holds for a NULL vector too."""

from django.db import migrations

from catalog.migrations._postgresql import run_on_postgresql

CREATE = """
CREATE OR REPLACE FUNCTION catalog_priced_text_match(tsvector) RETURNS boolean
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE COST 25
AS $$ BEGIN RETURN true; END $$
"""
DROP = "DROP FUNCTION IF EXISTS catalog_priced_text_match(tsvector)"


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0011_sort_indexes_with_nsfw"),
    ]

    operations = [
        migrations.RunPython(run_on_postgresql([CREATE]), run_on_postgresql([DROP])),
    ]

"""catalog_bigrams(text): the distinct two-letter pieces of a text, and a GIN index of them over the models'
lower-case names (model_name_bigram_idx), which a search for two letters asks beside its LIKE
(catalog/filters.py, _holding): the trigram index serves three letters and more, not two. PostgreSQL only.

Building the index took 2.3 s over 100,000 models (7.5 MB); ingesting the corpus measured no slower with it
(558-620 models a second against 535-597, three runs of each, alternating). Its pending list is kept short and
merged after each ingest run, as the other search indexes' (0013)."""

from django.db import migrations

from catalog.migrations._postgresql import run_on_postgresql

CREATE = [
    """
CREATE OR REPLACE FUNCTION catalog_bigrams(text) RETURNS text[]
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$ SELECT coalesce(array_agg(DISTINCT substr($1, i, 2)), '{}') FROM generate_series(1, length($1) - 1) AS i $$
""",
    "CREATE INDEX IF NOT EXISTS model_name_bigram_idx ON catalog_model USING gin (catalog_bigrams(lower(name))) "
    "WITH (gin_pending_list_limit = 256)",
]
DROP = ["DROP INDEX IF EXISTS model_name_bigram_idx", "DROP FUNCTION IF EXISTS catalog_bigrams(text)"]


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0013_search_indexes_short_pending_lists"),
    ]

    operations = [
        migrations.RunPython(run_on_postgresql(CREATE), run_on_postgresql(DROP)),
    ]

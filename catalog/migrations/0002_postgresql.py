"""What only PostgreSQL has: search's full text, trigram and bigram indexes, and the functions they use.

- search_vector: a 'simple' tsvector of search_text, kept by a trigger (a generated column cannot be a tsvector
  of a text this long), GIN-indexed, with statistics of 4,000 words so the planner knows how common a word is.
- catalog_priced_text_match: always true, declared costly, asked beside a full-text match (catalog/search.py).
- the lower-case name, GIN-indexed by trigrams (a name holding three letters or more) and by its two-letter
  pieces (catalog_bigrams: two letters, which no trigram serves).
- the date sorts' indexes, unknown dates last (SQLite cannot say NULLS LAST in an index).
- the GIN indexes keep at most 256 kB of pending entries: every search reads all of a pending list, and an
  ingest run merges them when it finishes (ingest/runs.py).

SQLite runs none of it: it searches by substring.
"""

from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations

GIN = "WITH (gin_pending_list_limit = 256)"
# The date sorts' indexes, unknown dates last, carrying what the other sort indexes carry (SORT_INDEX_INCLUDE).
DATE_SORTS = [
    ("model_published_idx", "published_at", "DESC"),
    ("model_oldest_idx", "published_at", "ASC"),
    ("model_updated_idx", "last_version_at", "DESC"),
]
INCLUDE = "INCLUDE (name_lower, hidden, nsfw)"

FORWARD = [
    """CREATE FUNCTION catalog_model_search_vector() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        NEW.search_vector := to_tsvector('simple'::regconfig, coalesce(NEW.search_text, ''));
        RETURN NEW;
    END
    $$""",
    """CREATE TRIGGER catalog_model_search_vector BEFORE INSERT OR UPDATE OF search_text, search_vector
    ON catalog_model FOR EACH ROW EXECUTE FUNCTION catalog_model_search_vector()""",
    "ALTER TABLE catalog_model ALTER COLUMN search_vector SET STATISTICS 400",
    f"CREATE INDEX model_search_vector_idx ON catalog_model USING gin (search_vector) {GIN}",
    """CREATE FUNCTION catalog_priced_text_match(tsvector) RETURNS boolean
    LANGUAGE plpgsql IMMUTABLE COST 25 PARALLEL SAFE AS $$ BEGIN RETURN true; END $$""",
    f"CREATE INDEX model_name_trgm_idx ON catalog_model USING gin (name_lower gin_trgm_ops) {GIN}",
    """CREATE FUNCTION catalog_bigrams(text) RETURNS text[] LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS
    $$ SELECT coalesce(array_agg(DISTINCT substr($1, i, 2)), '{}') FROM generate_series(1, length($1) - 1) AS i $$""",
    f"CREATE INDEX model_name_bigram_idx ON catalog_model USING gin (catalog_bigrams(name_lower)) {GIN}",
    *(
        f"CREATE INDEX {name} ON catalog_model ({column} {order} NULLS LAST, id {order}) {INCLUDE}"
        for name, column, order in DATE_SORTS
    ),
]
BACKWARD = [
    *(f"DROP INDEX {name}" for name, _, _ in DATE_SORTS),
    "DROP INDEX model_name_bigram_idx",
    "DROP FUNCTION catalog_bigrams(text)",
    "DROP INDEX model_name_trgm_idx",
    "DROP FUNCTION catalog_priced_text_match(tsvector)",
    "DROP INDEX model_search_vector_idx",
    "ALTER TABLE catalog_model ALTER COLUMN search_vector SET STATISTICS -1",
    "DROP TRIGGER catalog_model_search_vector ON catalog_model",
    "DROP FUNCTION catalog_model_search_vector()",
]


def on_postgresql(statements: list[str]):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            for statement in statements:
                schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [("catalog", "0001_initial")]

    operations = [
        TrigramExtension(),
        migrations.RunPython(on_postgresql(FORWARD), on_postgresql(BACKWARD)),
    ]

"""Full-text search: ten times PostgreSQL's default statistics on Model.search_vector.

With the default, ANALYZE keeps the frequencies of about 1,000 words, and guesses any other word in about 0.5% of
the models. A search's "the rest" tier (filters.search_page) asks for a page of the matching models by downloads;
with 500 guessed matches PostgreSQL walks the downloads index expecting a page soon, and for a rare word (23
matches at 100,000 models, none left for that tier) it read every model: 494 ms for one API search. With 10,000
words kept, a rare word is guessed at a few dozen and found through the full-text index (2 ms); common words
still walk the downloads index.
"""

from django.db import migrations

from catalog.migrations._postgresql import run_on_postgresql

STATISTICS = [
    "ALTER TABLE catalog_model ALTER COLUMN search_vector SET STATISTICS 1000",
    "ANALYZE catalog_model (search_vector)",
]
STATISTICS_UNDO = ["ALTER TABLE catalog_model ALTER COLUMN search_vector SET STATISTICS -1"]


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0005_search_vector_and_sort_indexes"),
    ]

    operations = [
        migrations.RunPython(run_on_postgresql(STATISTICS), run_on_postgresql(STATISTICS_UNDO)),
    ]

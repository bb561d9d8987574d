"""The search's GIN indexes (model_search_vector_idx, model_name_trgm_idx) keep at most 256 kB of new entries in
their pending list instead of PostgreSQL's 4 MB. PostgreSQL only.

A GIN index takes new rows into an unsorted pending list, and every search reads all of it until the list is
merged into the index: by a VACUUM, by gin_clean_pending_list (which an ingest run calls when it finishes,
ingest.services.search_indexes_merge), or by the insert that fills it. The corpus's 4,484 models, ingested into
an empty catalog, left 486 and 188 pending pages: a full-text search for one word then took 14 ms to run instead
of 0.02 ms, a name search 3.2 ms instead of 0.03, until autovacuum came (in a catalog of 100,000 models, not
before some 20,000 more models). With 256 kB, 18 and 28 pages are left at most; the same ingest measured no
slower (467-639 models a second against 485-578, five runs of each, alternating)."""

from django.db import migrations

from catalog.migrations._postgresql import run_on_postgresql

INDEXES = ["model_search_vector_idx", "model_name_trgm_idx"]


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0012_priced_text_match"),
    ]

    operations = [
        migrations.RunPython(
            run_on_postgresql([f"ALTER INDEX {name} SET (gin_pending_list_limit = 256)" for name in INDEXES]),
            run_on_postgresql([f"ALTER INDEX {name} RESET (gin_pending_list_limit)" for name in INDEXES]),
        ),
    ]

"""The date sorts' indexes, which migrations write in SQL (PostgreSQL needs NULLS LAST in them to serve the sort;
SQLite cannot say it in an index): 0009 and 0011 make them again with other INCLUDE columns. Not a migration
(Django's loader skips modules whose names start with an underscore)."""

DATE_SORTS = [("model_published_idx", "published_at", "DESC"), ("model_oldest_idx", "published_at", "ASC"),
              ("model_updated_idx", "last_version_at", "DESC")]  # fmt: skip


def date_sort_indexes(include: str):
    """A RunPython function that makes the date sorts' indexes again with `include` (" INCLUDE (...)" or "")."""

    def apply(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for name, column, direction in DATE_SORTS:
            schema_editor.execute(f"DROP INDEX IF EXISTS {name}")
            schema_editor.execute(
                f"CREATE INDEX {name} ON catalog_model ({column} {direction} NULLS LAST, id {direction}){include}"
            )

    return apply

"""What migrations run on PostgreSQL only, in SQL. Not a migration (Django's loader skips modules whose names start
with an underscore).

- run_on_postgresql: statements, skipped on SQLite (0003, 0005, 0006, 0010, 0012);
- date_sort_indexes: the date sorts' indexes (PostgreSQL needs NULLS LAST in them to serve the sort; SQLite cannot
  say it in an index), made again with other INCLUDE columns (0009, 0011)."""

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


def run_on_postgresql(statements: list[str]):
    """A RunPython function that executes `statements` in order on PostgreSQL, and nothing on another database."""

    def apply(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for statement in statements:
            schema_editor.execute(statement)

    return apply

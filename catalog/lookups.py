"""`field__any_of=values`: `field IN (values)`, sent to PostgreSQL as `field = ANY(%s)` with one array parameter.

The batched ingest asks which of a batch's thousands of ids (models, versions, files, images, item digests) the
catalog has. With `__in` each id is a placeholder of its own: binding, quoting and planning a statement with
6,000 of them costs more than the lookup. With one array the statement stays small whatever the batch. Other
databases get the plain `IN`. Registered on every field by CatalogConfig.ready.
"""

from __future__ import annotations

from django.db.models.lookups import In


class AnyOf(In):
    lookup_name = "any_of"

    def as_postgresql(self, compiler, connection):
        if not self.rhs_is_direct_value():  # a subquery stays `IN (SELECT ...)`
            return super().as_sql(compiler, connection)
        lhs, lhs_params = self.process_lhs(compiler, connection)
        values = [v for v in self.rhs if v is not None]  # prepared by get_prep_lookup; NULL never equals
        return f"{lhs} = ANY(%s)", (*lhs_params, values)

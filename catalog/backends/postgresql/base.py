"""Django's PostgreSQL backend, reading timestamps with psycopg's C loader, and telling a dead connection from a
live one without a round trip.

Django registers its own `timestamptz` loader on every connection so that it can set the datetimes' tzinfo, and
derives it from psycopg's pure-Python loader: the C one cannot be subclassed (Django ticket #36960, psycopg issue
#1273). Every timestamp read then goes through Python's parsing, about 5 µs each: reading 100 models with their
creators, six timestamps each, took 5.8 ms instead of 1.5 ms.

Where the connection's time zone is UTC (Django sets it, with USE_TZ and no per-database TIME_ZONE), psycopg's C
loader gives exactly what Django's gives: aware datetimes in `datetime.timezone.utc`. Each cursor gets it; any
other time zone keeps Django's loader.

CONN_HEALTH_CHECKS makes Django check a kept connection before the first query of each request, and its check is
a `SELECT 1`: a round trip on every request, as much as a hash lookup's own query. A connection the server has
ended (a restart, pg_terminate_backend, an idle timeout) has said so on its socket, a FATAL message and the end of
the stream, and a live idle one has nothing to read: so is_usable looks at the socket instead, and a connection
with something to read is one that is ending.

Statements PostgreSQL keeps planned (`kept_plan_cursor`): a search's first page is one statement whose planning
cost more than running it (at 10,000 models, for "merge": 0.47 ms of planning, 0.38 of running), the same plan
every time the same words are asked. Django turns psycopg's prepared statements off (they break connection
poolers in transaction mode); this cursor prepares a statement the second time its text comes, so PostgreSQL
parses and plans it once per connection and runs the kept plan whenever the same text comes again (the first
page of a list or of a search, a list's page after a cursor: catalog/compiled.py). psycopg keeps the last
PREPARED_MAX of them per connection and deallocates the others. PostgreSQL plans a kept statement again when
what it was planned from changes (ANALYZE, an index added). Off with DATABASE_KEEP_PLANS=false (settings), for a
pooler in transaction mode that cannot carry them (PgBouncer before 1.21).
"""

from __future__ import annotations

import datetime
import select
from collections import OrderedDict

import psycopg
from django.conf import settings
from django.db.backends.postgresql import base
from django.db.backends.postgresql.operations import DatabaseOperations as PostgreSQLOperations
from psycopg.postgres import types
from psycopg.pq import ConnStatus, Format, TransactionStatus

TIMESTAMPTZ_OID = types["timestamptz"].oid
# psycopg's own loader: the C one when psycopg's C speedups are installed (psycopg[binary] or [c]).
FAST_TIMESTAMPTZ = psycopg.adapters.get_loader(TIMESTAMPTZ_OID, Format.TEXT)
# Statements kept prepared per connection (psycopg's default: 100). Each holds its plan in the server's process:
# about 270 kB for a search's first page (32 of them: 8.5 MB more in the backend), so 4 MB a connection at most.
PREPARED_MAX = 16
# psycopg prepares nothing on a connection whose prepare_threshold is None (Django's default); with this one it
# prepares what a cursor asks it to (KeptPlanCursor) and nothing of its own accord.
ONLY_WHEN_ASKED = 2**31 - 1


# Texts a connection remembers having run once (by their hash), so that the second time one comes it is prepared.
ASKED_MAX = 256


class KeptPlanCursor(base.ServerBindingCursor):
    """A psycopg cursor that prepares a statement the second time its text comes on the connection: PostgreSQL
    then plans that text once for the connection. Preparing a statement asked only once would cost more than it
    saves (searches of words never asked again: 1.44-1.57 -> 1.73 ms, a statement made and let go each time).
    Its statements come with their values written in (no parameters), so a kept plan is the plan of those very
    values, never a generic one: the cursor writes a statement's parameters into its text itself, quoted as the
    client-side cursor quotes every query. `asked`: the connection's texts run once
    (DatabaseWrapper.kept_plan_cursor); `text`: the last statement's, as it was sent."""

    asked: OrderedDict[int, None]
    text: str | None = None

    def execute(self, query, params=None, *, prepare=None, binary=None):
        if params is not None:
            query = psycopg.ClientCursor(self.connection).mogrify(query, params)
        self.text = query
        key = hash(query)
        again = key in self.asked
        if again:
            self.asked.move_to_end(key)
        else:
            self.asked[key] = None
            if len(self.asked) > ASKED_MAX:
                self.asked.popitem(last=False)
        return super().execute(query, prepare=again, binary=binary)


class DatabaseOperations(PostgreSQLOperations):
    def last_executed_query(self, cursor, sql, params):
        """What Django logs and counts for a query (connection.queries, CaptureQueriesContext): psycopg's text of
        it, which a kept statement run again does not have (it is sent by its name); the kept plan cursor's own
        text of it, its values written in."""
        if isinstance(cursor, KeptPlanCursor):
            return cursor.text
        return super().last_executed_query(cursor, sql, params)


class DatabaseWrapper(base.DatabaseWrapper):
    ops_class = DatabaseOperations

    def get_new_connection(self, conn_params):
        connection = super().get_new_connection(conn_params)
        if settings.DATABASE_KEEP_PLANS and connection.prepare_threshold is None:
            connection.prepare_threshold = ONLY_WHEN_ASKED
            connection.prepared_max = PREPARED_MAX
        self.asked_texts: OrderedDict[int, None] = OrderedDict()
        return connection

    def create_cursor(self, name=None):
        return self._fast_timestamps(super().create_cursor(name))

    def kept_plan_cursor(self):
        """A cursor as connection.cursor() gives it (its queries logged and counted like any other), whose
        statements PostgreSQL keeps planned (the module's docstring), their parameters written into their text."""
        self.close_if_health_check_failed()
        self.ensure_connection()
        with self.wrap_database_errors:
            cursor = KeptPlanCursor(self.connection)
        cursor.asked = self.asked_texts
        return self._prepare_cursor(self._fast_timestamps(cursor))

    def _fast_timestamps(self, cursor):
        if self.timezone is datetime.UTC and self.connection.info.parameter_status("TimeZone") == "UTC":
            cursor.adapters.register_loader(TIMESTAMPTZ_OID, FAST_TIMESTAMPTZ)
        return cursor

    def is_usable(self):
        connection = self.connection
        if connection is None or connection.closed:
            return False
        pgconn = connection.pgconn
        try:
            # An idle connection is sent nothing it did not ask for but its goodbye: a FATAL message, then the end
            # of the stream. The two may come apart (the server's process sends the first, then takes its time
            # to exit), so anything to read at all means the connection is ending, and it is replaced.
            if _readable(pgconn.socket):
                return False
        except (OSError, ValueError, psycopg.Error):
            return False
        return pgconn.status == ConnStatus.OK and pgconn.transaction_status in (
            TransactionStatus.IDLE,
            TransactionStatus.INTRANS,
        )


def _readable(fd: int) -> bool:
    """Whether a socket has something to read (or has hung up), without waiting; poll has no limit on fd numbers."""
    if hasattr(select, "poll"):
        poller = select.poll()
        poller.register(fd, select.POLLIN)
        return bool(poller.poll(0))
    return bool(select.select([fd], [], [], 0)[0])

"""Session storage that refuses malformed session keys before they reach the database.

A cookie holding a NUL byte would otherwise make PostgreSQL raise (text cannot hold NUL) and the request 500.
"""

from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore


class SessionStore(DatabaseSessionStore):
    def _validate_session_key(self, key):
        # Django's own keys are 32 lower-case letters and digits.
        return bool(key) and 8 <= len(key) <= 40 and key.isascii() and key.isalnum()

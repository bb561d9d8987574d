"""API token authentication that refuses malformed keys before they reach the database."""

import re

from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication

TOKEN_KEY = re.compile(r"^[0-9a-f]{40}$")


class StrictTokenAuthentication(TokenAuthentication):
    """DRF's tokens are 40 lower-case hex digits; anything else is refused with 401, never looked up."""

    def authenticate_credentials(self, key):
        if not TOKEN_KEY.match(key):
            raise exceptions.AuthenticationFailed("Invalid token.")
        return super().authenticate_credentials(key)

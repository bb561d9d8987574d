"""A Redis cache that a stopped Redis cannot take down.

Pages and the read API use the cache for facet counts, the catalog version and the anonymous throttle. When
Redis is unreachable, Django's RedisCache raises and every page would answer 500. This one logs the outage
(once a minute at most) and behaves as an empty cache that keeps nothing: reads miss, writes are dropped, and
the site keeps serving from PostgreSQL until Redis is back.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from django.core.cache.backends.redis import RedisCache, RedisCacheClient

logger = logging.getLogger(__name__)

_last_warning = 0.0


def _down(operation: str, exc: Exception) -> None:
    global _last_warning  # one warning a minute across the process
    now = time.monotonic()
    if now - _last_warning > 60:
        _last_warning = now
        logger.warning("cache unreachable (%s: %s): serving without it", operation, type(exc).__name__)


class ReusedClientRedisCacheClient(RedisCacheClient):
    """Django's Redis cache client, keeping one redis-py client per connection pool. Django's makes a new one
    for every cache call, and a redis-py client builds its table of reply callbacks (some 200 entries) when it
    is made: that took longer than the Redis round trip itself. The client is as thread-safe as its pool."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, Any] = {}

    def get_client(self, key=None, *, write=False):
        index = self._get_connection_pool_index(write)
        client = self._clients.get(index)
        if client is None:
            client = self._clients[index] = self._client(connection_pool=self._get_connection_pool(write))
        return client


class ResilientRedisCache(RedisCache):
    """Django's RedisCache, with short timeouts, that turns Redis errors into cache misses."""

    def __init__(self, server: str, params: dict[str, Any]) -> None:
        options = dict(params.get("OPTIONS") or {})
        options.setdefault("socket_connect_timeout", 0.5)
        options.setdefault("socket_timeout", 0.5)
        super().__init__(server, {**params, "OPTIONS": options})
        self._class = ReusedClientRedisCacheClient

    def incr_window(self, key: str, timeout: int, amount: int = 1) -> int | None:
        """Adds `amount` to the counter `key`, made with this timeout by its first increment, and returns it, in
        one round trip (Django's incr asks first whether the key exists); None when Redis does not answer."""
        from redis.exceptions import RedisError

        key = self.make_and_validate_key(key)
        try:
            pipe = self._cache.get_client(key, write=True).pipeline(transaction=False)
            pipe.set(key, 0, ex=timeout, nx=True)
            pipe.incrby(key, amount)
            return pipe.execute()[1]
        except (RedisError, OSError) as exc:
            _down("incr_window", exc)
            return None

    def _guard(self, operation: str, default: Any, call: Any, *args: Any, **kwargs: Any) -> Any:
        from redis.exceptions import RedisError

        try:
            return call(*args, **kwargs)
        except (RedisError, OSError) as exc:
            _down(operation, exc)
            return default

    def get(self, key, default=None, version=None):
        return self._guard("get", default, super().get, key, default, version)

    def get_many(self, keys, version=None):
        return self._guard("get_many", {}, super().get_many, keys, version)

    def has_key(self, key, version=None):
        return self._guard("has_key", False, super().has_key, key, version)

    def set(self, key, value, timeout=Ellipsis, version=None):
        from django.core.cache.backends.base import DEFAULT_TIMEOUT

        timeout = DEFAULT_TIMEOUT if timeout is Ellipsis else timeout
        return self._guard("set", None, super().set, key, value, timeout, version)

    def set_many(self, data, timeout=Ellipsis, version=None):
        from django.core.cache.backends.base import DEFAULT_TIMEOUT

        timeout = DEFAULT_TIMEOUT if timeout is Ellipsis else timeout
        return self._guard("set_many", list(data), super().set_many, data, timeout, version)

    def add(self, key, value, timeout=Ellipsis, version=None):
        from django.core.cache.backends.base import DEFAULT_TIMEOUT

        timeout = DEFAULT_TIMEOUT if timeout is Ellipsis else timeout
        return self._guard("add", False, super().add, key, value, timeout, version)

    def touch(self, key, timeout=Ellipsis, version=None):
        from django.core.cache.backends.base import DEFAULT_TIMEOUT

        timeout = DEFAULT_TIMEOUT if timeout is Ellipsis else timeout
        return self._guard("touch", False, super().touch, key, timeout, version)

    def delete(self, key, version=None):
        return self._guard("delete", False, super().delete, key, version)

    def delete_many(self, keys, version=None):
        return self._guard("delete_many", None, super().delete_many, keys, version)

    def incr(self, key, delta=1, version=None):
        from redis.exceptions import RedisError

        try:
            return super().incr(key, delta, version)
        except (RedisError, OSError) as exc:
            _down("incr", exc)
            raise ValueError(f"Key '{key}' not found (the cache is unreachable)") from None

    def clear(self):
        return self._guard("clear", False, super().clear)

"""The anonymous read throttle of both APIs."""

from __future__ import annotations

from rest_framework.throttling import AnonRateThrottle


class AnonWindowThrottle(AnonRateThrottle):
    """DRF's anonymous rate (API_ANON_RATE), counted in fixed windows: one counter per client and window,
    incremented in the cache in one step. DRF's own throttle keeps a list of the time of every request in the
    window and reads and writes it whole on each one: with a generous rate (thousands a minute, for a
    collector's own scripts) that list is thousands of entries long. A client may reach twice the rate across
    the edge of two windows; the answer's Retry-After says when its window ends."""

    def allow_request(self, request, view) -> bool:
        if self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        self.now = self.timer()
        window = int(self.now // self.duration)
        self.window_ends = (window + 1) * self.duration
        count = _count(self.cache, f"{self.key}:{window}", self.duration + 1)
        if count is None:  # the cache does not answer: reads go on, unthrottled
            return True
        return count <= self.num_requests or self.throttle_failure()

    def wait(self) -> float:
        return max(0.0, self.window_ends - self.now)


def _count(cache, key: str, timeout: int) -> int | None:
    """One more request in the window counted under `key`: Redis counts in one round trip
    (catalog.cache.ResilientRedisCache.incr_window), other caches with incr, or add for the window's first."""
    if hasattr(cache, "incr_window"):
        return cache.incr_window(key, timeout)
    try:
        return cache.incr(key)
    except ValueError:  # the window's first request
        if cache.add(key, 1, timeout):
            return 1
        try:
            return cache.incr(key)
        except ValueError:
            return None

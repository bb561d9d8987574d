"""The anonymous read throttle of both APIs."""

from __future__ import annotations

import threading

from rest_framework.throttling import AnonRateThrottle

# A lease is this share of what a client has left of its window's rate (at least one request).
LEASE_SHARE = 32


class AnonWindowThrottle(AnonRateThrottle):
    """DRF's anonymous rate (API_ANON_RATE), counted in fixed windows: one counter per client and window,
    incremented in the cache in one step. DRF's own throttle keeps a list of the time of every request in the
    window and reads and writes it whole on each one: with a generous rate (thousands a minute, for a
    collector's own scripts) that list is thousands of entries long. A client may reach twice the rate across
    the edge of two windows; the answer's Retry-After says when its window ends.

    A web process counts a client's requests in leases (`_Leases`): it adds several to the client's counter at
    once and lets that many through before asking the cache again. A lease is a thirty-second of what the
    client has left of the rate, at least one: 3 of 120 a minute, 3,124 of 100,000. No more than the rate gets
    through; a client whose requests go to several processes may be refused a few requests early, the ones
    leased to a process it stopped reaching. A script with a generous rate then costs a Redis round trip every
    few thousand requests instead of each (0.16 ms of an API search's 3.1 in process)."""

    def allow_request(self, request, view) -> bool:
        if self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        self.now = self.timer()
        window = int(self.now // self.duration)
        self.window_ends = (window + 1) * self.duration
        key = f"{self.key}:{window}"
        if _LEASES.use(key, window):
            return True
        size = _LEASES.next_size(key, self.num_requests)
        count = _count(self.cache, key, self.duration + 1, size)
        if count is None:  # the cache does not answer: reads go on, unthrottled
            return True
        granted = min(count, self.num_requests) - (count - size)  # the leased numbers within the rate
        if granted <= 0:
            return self.throttle_failure()
        _LEASES.hold(key, window, granted - 1, count)  # this request takes one
        return True

    def wait(self) -> float:
        return max(0.0, self.window_ends - self.now)


class _Leases:
    """The requests of each client's current window that this process has counted in the cache and not yet let
    through, with the client's count as the cache last gave it. Leases of a window that has ended lapse."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._window: int | None = None
        self._held: dict[str, list[int]] = {}  # key -> [requests left, the counter's value]

    def use(self, key: str, window: int) -> bool:
        """Lets one request through on a lease, if this process holds one for `key`."""
        with self._lock:
            if window != self._window:
                self._window, self._held = window, {}
            held = self._held.get(key)
            if held is None or held[0] <= 0:
                return False
            held[0] -= 1
            return True

    def next_size(self, key: str, rate: int) -> int:
        """How many to count at once: one for a client not seen in this window (its count is not known yet),
        else a LEASE_SHARE-th of what it has left, at least one."""
        with self._lock:
            held = self._held.get(key)
        return 1 if held is None else max(1, (rate - held[1]) // LEASE_SHARE)

    def hold(self, key: str, window: int, left: int, count: int) -> None:
        with self._lock:
            if window == self._window:
                self._held[key] = [left, count]

    def clear(self) -> None:
        """Forgets every lease (the counters they were taken from are gone: a test's fresh cache)."""
        with self._lock:
            self._window, self._held = None, {}


_LEASES = _Leases()


def _count(cache, key: str, timeout: int, size: int = 1) -> int | None:
    """`size` more requests in the window counted under `key`, and the count: Redis counts in one round trip
    (catalog.cache.ResilientRedisCache.incr_window), other caches with incr, or add for the window's first."""
    if hasattr(cache, "incr_window"):
        return cache.incr_window(key, timeout, size)
    try:
        return cache.incr(key, size)
    except ValueError:  # the window's first request
        if cache.add(key, size, timeout):
            return size
        try:
            return cache.incr(key, size)
        except ValueError:
            return None

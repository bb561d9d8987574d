"""The anonymous read throttle on a real Redis: one counter per client and window, made with its expiry."""

from __future__ import annotations

import shutil

import pytest
import redis
from rest_framework.test import APIClient

from tests.factories import ModelFactory
from tests.functional.test_faults import RedisServer, _free_port

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(shutil.which("redis-server") is None, reason="redis-server is not installed here"),
]


@pytest.fixture
def redis_cache(settings):
    """The catalog's Redis cache on a redis-server of this test's own."""
    server = RedisServer(_free_port())
    settings.CACHES = {
        "default": {
            "BACKEND": "catalog.cache.ResilientRedisCache",
            "LOCATION": f"redis://127.0.0.1:{server.port}/0",
        }
    }
    yield server
    server.stop()


def test_redis_counts_each_clients_requests_in_its_window_and_the_counter_expires(
    redis_cache, monkeypatch
) -> None:
    from rest_framework.throttling import AnonRateThrottle

    ModelFactory(name="Counted")
    monkeypatch.setattr(AnonRateThrottle, "THROTTLE_RATES", {"anon": "3/minute"})
    api = APIClient()
    answers = [api.get("/api/models/").status_code for _ in range(4)]
    assert answers == [200, 200, 200, 429]
    assert api.get("/api/v1/models").status_code == 429  # both APIs share the client's count
    assert api.get("/api/models/", REMOTE_ADDR="10.1.2.3").status_code == 200

    server = redis.Redis(port=redis_cache.port)
    counters = {key.decode(): int(server.get(key)) for key in server.keys("*throttle_anon_*")}
    assert sorted(counters.values()) == [1, 5]  # 127.0.0.1 asked five times, 10.1.2.3 once
    for key in counters:
        assert 0 < server.ttl(key) <= 61  # the window's minute and a second: no counter outlives it


def test_redis_stopped_reads_go_on_unthrottled_and_counting_resumes_when_it_is_back(
    redis_cache, monkeypatch
) -> None:
    from rest_framework.throttling import AnonRateThrottle

    ModelFactory(name="Counted")
    monkeypatch.setattr(AnonRateThrottle, "THROTTLE_RATES", {"anon": "2/minute"})
    api = APIClient()
    assert [api.get("/api/models/").status_code for _ in range(3)] == [200, 200, 429]

    redis_cache.stop()
    assert [api.get("/api/models/").status_code for _ in range(3)] == [200, 200, 200]

    back = RedisServer(redis_cache.port)  # empty: the window starts again
    try:
        assert [api.get("/api/models/").status_code for _ in range(3)] == [200, 200, 429]
    finally:
        back.stop()


def test_a_process_counts_in_leases_and_lets_exactly_the_rate_through(redis_cache, monkeypatch) -> None:
    """A web process adds a share of what the client has left to its counter at once, and lets that many
    requests through without asking Redis again: no more than the rate gets through, and the fewer round trips
    the more the client has left."""
    from rest_framework.throttling import AnonRateThrottle

    from catalog.api.throttling import AnonWindowThrottle

    ModelFactory(name="Counted")
    monkeypatch.setattr(AnonWindowThrottle, "timer", lambda self: 1_000_020.0)  # one window throughout
    server = redis.Redis(port=redis_cache.port)
    api = APIClient()

    def increments() -> int:
        return int(server.info("commandstats").get("cmdstat_incrby", {}).get("calls", 0))

    monkeypatch.setattr(AnonRateThrottle, "THROTTLE_RATES", {"anon": "200/minute"})
    answers = [api.get("/api/models/?limit=1").status_code for _ in range(202)]
    assert answers == [200] * 200 + [429] * 2
    assert increments() == 108  # leases of 6 requests down to 1 as the rate runs out
    (counter,) = server.keys("*throttle_anon_*")
    assert int(server.get(counter)) == 202  # the refused requests are counted too, as before

    server.flushall()
    server.config_resetstat()
    api = APIClient(REMOTE_ADDR="10.9.8.7")
    monkeypatch.setattr(AnonRateThrottle, "THROTTLE_RATES", {"anon": "100000/minute"})
    assert {api.get("/api/models/?limit=1").status_code for _ in range(300)} == {200}
    assert increments() == 2  # the first request's one, then a lease of 3,124

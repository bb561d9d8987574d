"""The anonymous read throttle (DRF's AnonRateThrottle) over the shared Redis cache: each client's requests
counted across both APIs, and reads going on when Redis stops."""

from __future__ import annotations

import shutil

import pytest
import redis
from rest_framework.test import APIClient

from tests.conftest import redis_cache_settings
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
    settings.CACHES = redis_cache_settings(f"redis://127.0.0.1:{server.port}/0")
    yield server
    server.stop()


def test_redis_keeps_each_clients_requests_and_the_history_expires(redis_cache, monkeypatch) -> None:
    from rest_framework.throttling import AnonRateThrottle

    ModelFactory(name="Counted")
    monkeypatch.setattr(AnonRateThrottle, "THROTTLE_RATES", {"anon": "3/minute"})
    api = APIClient()
    answers = [api.get("/api/models/").status_code for _ in range(4)]
    assert answers == [200, 200, 200, 429]
    assert api.get("/api/v1/models").status_code == 429  # both APIs share the client's count
    assert api.get("/api/models/", REMOTE_ADDR="10.1.2.3").status_code == 200

    server = redis.Redis(port=redis_cache.port)
    histories = server.keys("*throttle_anon_*")
    assert len(histories) == 2  # one per client: 127.0.0.1 and 10.1.2.3
    for key in histories:
        assert 0 < server.ttl(key) <= 60  # a history lives as long as the rate's minute


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

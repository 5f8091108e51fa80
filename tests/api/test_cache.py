"""The answer cache (pure, with a fake clock) and the fast path that serves it before routing."""

from __future__ import annotations

import asyncio

import pytest

from api.cache import TTLCache, rankings_key
from api.fastpath import key_for


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def run(coro):
    return asyncio.run(coro)


def test_fresh_then_stale_while_revalidate_then_expired() -> None:
    clock, calls = Clock(), []

    async def scenario():
        cache = TTLCache(5, clock=clock, jitter=0)

        async def compute():
            calls.append(clock.now)
            await asyncio.sleep(0)
            return f"v{len(calls)}".encode()

        assert await cache.get_or_compute("k", compute) == b"v1"
        clock.now = 4.9
        assert cache.fresh("k") == b"v1" and await cache.get_or_compute("k", compute) == b"v1"
        clock.now = 6  # stale: served at once, refreshed in the background exactly once
        assert cache.fresh("k") is None
        assert await cache.get_or_compute("k", compute) == b"v1"
        assert await cache.get_or_compute("k", compute) == b"v1"
        await asyncio.sleep(0.01)
        assert await cache.get_or_compute("k", compute) == b"v2" and calls == [0, 6]
        clock.now = 6 + 10.5  # older than two TTLs: computed while the reader waits
        assert await cache.get_or_compute("k", compute) == b"v3"
        return cache

    cache = run(scenario())
    assert (cache.misses, cache.stale) == (2, 2)


def test_concurrent_misses_share_one_computation_and_errors_are_not_cached() -> None:
    calls = []

    async def scenario():
        cache = TTLCache(5)

        async def compute():
            calls.append(1)
            await asyncio.sleep(0.01)
            return b"answer"

        answers = await asyncio.gather(*(cache.get_or_compute("k", compute) for _ in range(20)))
        assert answers == [b"answer"] * 20 and len(calls) == 1

        async def broken():
            raise RuntimeError("database went away")

        for _ in range(2):
            with pytest.raises(RuntimeError):
                await cache.get_or_compute("other", broken)
        assert cache.fresh("other") is None

    run(scenario())


def test_ttl_zero_disables_the_cache() -> None:
    calls = []

    async def compute():
        calls.append(1)
        return b"x"

    async def scenario():
        cache = TTLCache(0)
        await cache.get_or_compute("k", compute)
        await cache.get_or_compute("k", compute)
        assert cache.fresh("k") is None

    run(scenario())
    assert len(calls) == 2


def test_bounded_number_of_entries() -> None:
    async def scenario():
        cache = TTLCache(5, max_entries=3)
        for i in range(5):
            await cache.get_or_compute(i, lambda i=i: asyncio.sleep(0, result=str(i).encode()))
        return [cache.fresh(i) for i in range(5)]

    assert run(scenario()) == [None, None, b"2", b"3", b"4"]


@pytest.mark.parametrize(("query", "key"), [
    (b"object=person", rankings_key(["person"], "24h", 20)),
    (b"object=Traffic%20Light&object=person&window=7d&limit=5", rankings_key(["traffic light", "person"], "7d", 5)),
    (b"object=traffic+light&object=traffic%20light&unknown=1", rankings_key(["traffic light"], "24h", 20)),
    (b"window=1h", None), (b"object=person&window=2h", None), (b"object=person&limit=0", None),
    (b"object=person&limit=5&limit=6", None), (b"object=person&limit=x", None), (b"object=%01", None),
])
def test_fast_path_keys_match_the_endpoint_or_defer_to_it(query, key) -> None:
    assert key_for("/api/rankings", query) == key


def test_cached_answers_equal_fresh_ones_and_keep_cors(client) -> None:
    params = [("object", "Traffic Light"), ("object", "person"), ("window", "7d")]
    first = client.get("/api/rankings", params=params)
    cache = client.app.state.cache
    hits = cache.hits
    second = client.get("/api/rankings", params=params, headers={"Origin": "http://localhost:5173"})
    assert cache.hits == hits + 1  # served by the fast path
    assert second.content == first.content and second.headers["content-type"] == "application/json"
    assert second.headers["access-control-allow-origin"] == "http://localhost:5173"
    objects = client.get("/api/objects")
    assert client.get("/api/objects").content == objects.content and cache.hits == hits + 2


def test_fast_path_defaults_are_the_endpoints() -> None:
    """The fast path's defaults and bounds come from api.params, which the routers declare: the OpenAPI
    document (read from the routers) says the same, so a default changed in one place changes both."""
    from api.openapi import document
    from api.params import DEFAULT_WINDOW, RANKINGS_LIMIT, RANKINGS_LIMIT_MAX, RANKINGS_LIMIT_MIN

    declared = {p["name"]: p["schema"] for p in document()["paths"]["/api/rankings"]["get"]["parameters"]}
    assert declared["limit"] == {"default": RANKINGS_LIMIT, "maximum": RANKINGS_LIMIT_MAX,
                                 "minimum": RANKINGS_LIMIT_MIN, "title": "Limit", "type": "integer"}
    assert declared["window"]["default"] == DEFAULT_WINDOW.value
    assert key_for("/api/rankings", b"object=person") == rankings_key(["person"], DEFAULT_WINDOW.value,
                                                                     RANKINGS_LIMIT)
    assert key_for("/api/rankings", f"object=person&limit={RANKINGS_LIMIT_MAX + 1}".encode()) is None

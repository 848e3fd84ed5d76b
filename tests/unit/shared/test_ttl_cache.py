from __future__ import annotations

from livecommerce.shared.ttl_cache import TtlCache


def test_values_are_kept_for_their_time_and_reloaded_after(monkeypatch):
    import livecommerce.shared.ttl_cache as module

    clock = [100.0]
    monkeypatch.setattr(module.time, "monotonic", lambda: clock[0])
    loads: list[str] = []
    cache: TtlCache[str, str] = TtlCache(1.0)

    def load(value: str):
        return lambda: loads.append(value) or value

    assert cache.get("room", load("a")) == "a"
    clock[0] += 0.5
    assert cache.get("room", load("b")) == "a"             # still young
    assert cache.get("room", load("c"), fresh=True) == "c"  # a caller that must not use a copy
    clock[0] += 1.0
    assert cache.get("room", load("d")) == "d"             # expired
    cache.pop("room")
    assert cache.get("room", load("e")) == "e"
    assert loads == ["a", "c", "d", "e"]


def test_failed_loads_are_not_kept_and_the_cache_stays_bounded():
    cache: TtlCache[int, int] = TtlCache(60.0, max_entries=3)

    def boom() -> int:
        raise ValueError("no")

    try:
        cache.get(1, boom)
    except ValueError:
        pass
    assert cache.get(1, lambda: 7) == 7
    for key in range(2, 10):
        cache.get(key, lambda key=key: key)
    assert len(cache._entries) <= 3

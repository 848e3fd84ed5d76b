"""Many threads entering one lottery at once, each person twice: exact counts, one entry per person.

On moto in process. moto handles requests from many threads but is not atomic inside one (its
counter ADD reads and writes without a lock), so the tests run every botocore request into moto one
at a time (local.embedded_aws.serialize_in_process_moto, applied by the aws_env fixture): each
request is then atomic, as DynamoDB's are, while the threads still interleave between requests
(two tries of one person race to the conditional put). `benchmarks/lottery.py` runs the 10,000
entries version and prints the rate.
"""
from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest

pytestmark = pytest.mark.integration

PEOPLE = 300          # through the entry's storage path (the conditional put and the live counter)
THREADS = 24
SERVICE_PEOPLE = 12   # through the whole use case (visibility, eligibility, the entry, points for taking part)


def _race(attempts, enter):
    """Run `enter` over `attempts` from THREADS threads, the first THREADS released at once."""
    start = threading.Barrier(THREADS)

    def first(item):
        start.wait()
        return enter(item)

    with ThreadPoolExecutor(THREADS) as pool:
        head = list(pool.map(first, attempts[:THREADS]))
        return head + list(pool.map(enter, attempts[THREADS:]))


def test_entries_from_many_threads_each_person_twice_are_exact(shop):
    from livecommerce.engagement import draw, repository, service
    from livecommerce.engagement.participation import LOTTERY_ENTRY_POINTS
    from livecommerce.engagement.storage import ENTRY_SHARDS
    from livecommerce.shared import problems
    from livecommerce.shared.api import Caller

    room_id = shop.room()
    lottery = shop.ok(shop.call("POST", f"/v1/rooms/{room_id}/lotteries", "host-1", {
        "kind": "buyers", "prize": {"kind": "points", "name": "10 积分", "points": 10}, "winners": 3,
        "duration_seconds": 3600, "exclude_moderated": False}), 201)
    lid, salt = lottery["id"], lottery["salt"]

    # A crowd, each person twice (the second tries in another order), at the entry's storage path.
    people = [f"crowd-{i:04d}" for i in range(PEOPLE)]
    attempts = people + people[::-1]
    results = _race(attempts, lambda user: repository.put_entry(lid, draw.pseudonym(salt, user), user, "entry",
                                                                "2026-12-01T12:00:00Z"))
    assert Counter(results) == {True: PEOPLE, False: PEOPLE}
    accepted_by = Counter(user for user, ok in zip(attempts, results) if ok)
    assert set(accepted_by) == set(people) and set(accepted_by.values()) == {1}     # one entry per person

    # A few more through the whole use case, twice each at once: one entry and one points award each.
    viewers = [f"racer-{i:02d}" for i in range(SERVICE_PEOPLE)]
    for user in viewers:                 # eligible: a paid order in the room (what OrderPaid records)
        service.record_buyer(room_id, user, f"order-{user}")

    def enter(user: str) -> str:
        try:
            service.enter(Caller(user_id=user, roles=frozenset({"viewer"})), lid)
            return "accepted"
        except problems.Problem as exc:
            return exc.code

    tries = viewers + viewers[::-1]
    outcomes = _race(tries, enter)
    assert Counter(outcomes) == {"accepted": SERVICE_PEOPLE, "already_entered": SERVICE_PEOPLE}, Counter(outcomes)
    for user in viewers[:3]:
        assert shop.ok(shop.call("GET", "/v1/me/points", user))["balance"] == LOTTERY_ENTRY_POINTS

    everyone = people + viewers
    assert repository.all_entrants(lid) == sorted(draw.pseudonym(salt, u) for u in everyone)   # sorted, unique
    assert repository.live_count(lid) == len(everyone)
    assert shop.ok(shop.call("GET", f"/v1/lotteries/{lid}"))["entrants"] == len(everyone)
    per_shard = [len(repository.shard_entrants(lid, shard)) for shard in range(ENTRY_SHARDS)]
    assert sum(per_shard) == len(everyone) and max(per_shard) < len(everyone) // 4   # the crowd spread out

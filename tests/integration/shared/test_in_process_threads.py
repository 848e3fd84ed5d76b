"""The in-process API (tests' `api` fixture: local.gateway -> local.lambda_runtime containers in
threads) serves concurrent requests of different callers each as its own caller.

Powertools keeps the request being resolved on the `BaseRouter` class (one per process), so two
containers resolving at once in one process would read each other's event: one viewer's request
ran as another's. `livecommerce.shared.api.Api` keeps it on its own resolver instead (one
container, one request at a time, as on Lambda)."""
from __future__ import annotations

import sys
import threading
from concurrent.futures import ThreadPoolExecutor

USERS = [f"viewer-thread-{i}" for i in range(8)]
ROUNDS = 6


def test_concurrent_callers_each_run_as_themselves(api, seeded):
    tokens = {user: api.login(user) for user in USERS}
    start = threading.Barrier(len(USERS))

    def as_user(user: str) -> list[tuple[str, str | None, int]]:
        start.wait(timeout=30)
        seen = []
        for _ in range(ROUNDS):
            # /v1/me answers the caller the authorizer put in the event; a POST with a body also
            # checks that the body parsed is this request's (precheck and resolver see one event).
            me = api.call("GET", "/v1/me", token=tokens[user])
            seen.append((user, (me.json() or {}).get("id"), me.status))
        return seen

    switch = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)     # switch threads often, so requests interleave inside the resolver
    try:
        with ThreadPoolExecutor(len(USERS)) as pool:
            results = [row for rows in pool.map(as_user, USERS) for row in rows]
    finally:
        sys.setswitchinterval(switch)
    assert len(results) == len(USERS) * ROUNDS
    assert all(status == 200 for _, _, status in results), results
    mixed = [(user, got) for user, got, _ in results if got != user]
    assert mixed == []


def test_a_request_paused_in_its_route_still_reads_its_own_caller(api, seeded, monkeypatch):
    """The ordering that mixed callers, made deterministic: A's request has been resolved (its
    event set) and stops in its route just before it reads the caller; B's whole request runs
    in another container meanwhile; then A reads its caller."""
    from livecommerce.shared import api as api_module

    token_a, token_b = api.login("viewer-pause-a"), api.login("viewer-pause-b")
    a_paused, b_done = threading.Event(), threading.Event()
    real_caller = api_module.Api.caller

    def caller(self):
        if threading.current_thread().name == "caller-a":
            a_paused.set()
            assert b_done.wait(timeout=30)
        return real_caller(self)

    monkeypatch.setattr(api_module.Api, "caller", caller)
    answers: dict[str, object] = {}
    a = threading.Thread(target=lambda: answers.setdefault("a", api.call("GET", "/v1/me", token=token_a)),
                         name="caller-a")
    a.start()
    assert a_paused.wait(timeout=30)
    answers["b"] = api.call("GET", "/v1/me", token=token_b)
    b_done.set()
    a.join(timeout=60)
    assert answers["b"].status == 200 and answers["b"].json()["id"] == "viewer-pause-b"
    assert answers["a"].status == 200 and answers["a"].json()["id"] == "viewer-pause-a"

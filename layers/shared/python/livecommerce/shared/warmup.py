"""Load at init: what an API function's first request would otherwise pay, paid in the Lambda init
phase instead, where SnapStart snapshots it (docs/cold-start.md).

An entry module calls `load_at_init(...)` after building its resolver, naming the modules its routes
import on their first call (the services its router defers, the faces they use) and the AWS clients
they call. This imports them, creates the clients (botocore's data files parsed once, on the shared
session of `livecommerce.shared.aws`) and PynamoDB's DynamoDB client (its session: see
`livecommerce.shared.dynamo`), fills in the ports' AWS adapters, and builds what Powertools builds
for each route on its first call (the route's parameters and body model, `Route.dependant`: pydantic
and `issubclass` walks over every class loaded, the largest single cost of a first request once the
modules are loaded). It makes no network call: nothing in the snapshot holds a connection, a secret
or a credential cached from a request.

SnapStart resumes many execution environments from one snapshot, so anything random drawn at init
is the same in each of them (AWS, "Handling uniqueness with Lambda SnapStart"). ULIDs and tokens
draw from `os.urandom` when they are made (never at init); the `random` module's state is re-seeded
after a restore by a runtime hook (`snapshot_restore_py`, part of the Lambda Python runtimes that
support SnapStart; absent elsewhere, where there is no snapshot to restore).
"""
from __future__ import annotations

import importlib
import os
import random
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

from livecommerce.shared.settings import get_settings

# "0" turns loading at init off (the benchmark's comparison; a function that must start lean).
ENV = "LOAD_AT_INIT"


@dataclass
class Loaded:
    """What load_at_init did, for the benchmark and the tests."""
    modules: tuple[str, ...] = ()
    clients: tuple[str, ...] = ()
    dynamodb: bool = False
    routes: int = 0
    seconds: float = 0.0
    hooks: list[str] = field(default_factory=list)


last: Loaded | None = None


def enabled() -> bool:
    return os.environ.get(ENV, "1") != "0"


def load_at_init(*modules: str, api: Any = None, clients: Iterable[str] = (), dynamodb: bool = True) -> Loaded:
    """Import `modules`, create the `clients` (service names) and, with `dynamodb`, PynamoDB's
    DynamoDB client; build the routes of `api` (a livecommerce.shared.api.Api); register the
    after-restore hook. Returns what it did (nothing when off)."""
    global last
    if not enabled():
        last = Loaded()
        return last
    start = time.perf_counter()
    for name in modules:
        importlib.import_module(name)
    from livecommerce.shared import aws  # deferred: platform module, imported only where loading at init

    made = tuple(clients)
    for service in made:
        aws.client(service)
    if dynamodb:
        _dynamodb_client()
    from livecommerce.shared import ports  # deferred: as above

    ports.get()
    routes = build_routes(api.app) if api is not None else 0
    hooks = _register_after_restore(reseed_random)
    last = Loaded(modules=tuple(modules), clients=made, dynamodb=dynamodb, routes=routes,
                  seconds=time.perf_counter() - start, hooks=hooks)
    return last


def _dynamodb_client() -> Any:
    """PynamoDB's botocore client for this thread, created now through a bound model (the platform's
    Idempotency record, which every writing function uses): the session it is made on is the one
    every model of this thread gets (livecommerce.shared.dynamo), so the other models' clients find
    botocore's data files parsed."""
    from livecommerce.shared import idempotency  # deferred: pynamodb, where loading at init only

    return idempotency.bind()._get_connection().connection.client


def build_routes(app: Any) -> int:
    """What Powertools' resolver computes on a route's first call, computed now for every route of
    `app`: its dependant (parameters, body model) and body field. Returns the number of routes."""
    routes = list(getattr(app, "_static_routes", [])) + list(getattr(app, "_dynamic_routes", []))
    for route in routes:
        route.dependant        # noqa: B018 (a cached property: computing it is the point)
        route.body_field       # noqa: B018
    return len(routes)


def reseed_random() -> None:
    """After a SnapStart restore: a fresh seed from os.urandom for the `random` module."""
    random.seed()


def _register_after_restore(hook: Callable[[], None]) -> list[str]:
    try:
        from snapshot_restore_py import register_after_restore  # deferred: only in Lambda's runtimes with SnapStart
    except ImportError:
        return []
    register_after_restore(hook)
    return [hook.__name__]

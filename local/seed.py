"""Demo data for the local stage, made through the contexts' services as real calls make it:

* the dev users `operator-1` (operator), `host-1` and `host-2` (hosts), `viewer-1`, `viewer-2`,
  as a first dev login creates them (identity's roles for them, UserRegistered);
* the two hosts' profiles, created by the operator (HostCreated);
* the demo products and the points coupon (local.seed_commerce).

Every change is written with its domain events through the context's outbox, as the API
writes it. Idempotent: the ids are fixed, and what exists already (the service answers 409)
is left as it is.
"""
from __future__ import annotations

from typing import Any, Callable

from livecommerce.shared import problems
from livecommerce.shared.api import Caller

OPERATOR_ID = "operator-1"
DEMO_USERS = ("operator-1", "host-1", "host-2", "viewer-1", "viewer-2")
DEMO_HOSTS = {
    "host-1": {"display_name": "小林的好物直播间", "intro": "每晚八点，源头好货，限时秒杀。"},
    "host-2": {"display_name": "阿青茶园", "intro": "明前龙井，产地直播。"},
}


def operator() -> Caller:
    """The seeded operator as its token presents it to the services (identity's roles for it)."""
    from livecommerce.identity.rules import dev_roles

    return Caller(user_id=OPERATOR_ID, roles=frozenset(dev_roles(OPERATOR_ID)))


def created(make: Callable[[], Any], exists: str) -> bool:
    """Run one service call; False when it answered 409 `exists` (seeded before), True when it made it."""
    try:
        make()
    except problems.Conflict as exc:
        if exc.code != exists:
            raise
        return False
    return True


def seed() -> dict[str, int]:
    from livecommerce.identity import service as identity
    from local.seed_commerce import seed_products

    users_created = sum(identity.register_dev_user(user_id) for user_id in DEMO_USERS)
    hosts_created = sum(
        created(lambda host_id=host_id, profile=profile: identity.create_host(
            operator(), user_id=host_id, display_name=profile["display_name"], intro=profile["intro"],
            avatar=None), exists="host_exists")
        for host_id, profile in DEMO_HOSTS.items())
    return {"users": len(DEMO_USERS), "users_created": users_created, "hosts_created": hosts_created,
            **seed_products()}

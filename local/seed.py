"""Demo data for the local stage: an operator, hosts with profiles, viewers, products.

Idempotent: running it again leaves existing data as it is. Later contexts
(products, rooms) add their seeds here.
"""
from __future__ import annotations

from livecommerce.identity import repository

DEMO_USERS = {
    "operator-1": ["viewer", "operator"],
    "host-1": ["viewer", "host"],
    "host-2": ["viewer", "host"],
    "viewer-1": ["viewer"],
    "viewer-2": ["viewer"],
}
DEMO_HOSTS = {
    "host-1": {"display_name": "小林的好物直播间", "intro": "每晚八点，源头好货，限时秒杀。"},
    "host-2": {"display_name": "阿青茶园", "intro": "明前龙井，产地直播。"},
}


def seed() -> dict[str, int]:
    for user_id, roles in DEMO_USERS.items():
        repository.ensure_dev_user(user_id, roles)
    created = 0
    for host_id, profile in DEMO_HOSTS.items():
        if repository.get_host(host_id) is None:
            if repository.create_host(host_id=host_id, display_name=profile["display_name"],
                                      intro=profile["intro"], avatar=None, created_by="operator-1"):
                created += 1
    from local.seed_commerce import seed_products

    return {"users": len(DEMO_USERS), "hosts_created": created, **seed_products()}

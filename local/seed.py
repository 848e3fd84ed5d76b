"""Demo data for the local stage, made through the contexts' services as real calls make it:

* the dev users `operator-1` (operator), `host-1` and `host-2` (hosts), `viewer-1`, `viewer-2`,
  as a first dev login creates them (identity's roles for them, UserRegistered);
* the two hosts' profiles, created by the operator (HostCreated);
* the demo products and the points coupon, created by the operator (ProductCreated,
  CouponTemplateCreated).

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
DEMO_PRODUCTS = (
    # (id, name, list price in fen, stock, description)
    ("01JDEM000000000000000000P1", "羊绒围巾 · 燕麦色", 29900, 500, "内蒙古山羊绒，180×30 cm。"),
    ("01JDEM000000000000000000P2", "明前龙井 250 g", 46800, 300, "西湖产区，一级，锡罐装。"),
    ("01JDEM000000000000000000P3", "手工陶瓷马克杯", 8900, 800, "景德镇手作，350 ml，可微波。"),
    ("01JDEM000000000000000000P4", "冻干水果脆 6 袋装", 5990, 2000, "草莓、芒果、黄桃，无添加糖。"),
    ("01JDEM000000000000000000P5", "保温焖烧杯 500 ml", 15900, 600, "316 不锈钢内胆，保温 12 小时。"),
)
POINTS_TEMPLATE_ID = "01JDEM000000000000000000C1"


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
    users_created = sum(identity.register_dev_user(user_id) for user_id in DEMO_USERS)
    hosts_created = sum(
        created(lambda host_id=host_id, profile=profile: identity.create_host(
            operator(), user_id=host_id, display_name=profile["display_name"], intro=profile["intro"],
            avatar=None), exists="host_exists")
        for host_id, profile in DEMO_HOSTS.items())
    return {"users": len(DEMO_USERS), "users_created": users_created, "hosts_created": hosts_created,
            **seed_products()}


def seed_products() -> dict[str, int]:
    """Demo products and a points-redeemable coupon; existing ones are left as they are."""
    from livecommerce.catalog import service as catalog
    from livecommerce.catalog.models import CreateProductRequest
    from livecommerce.marketing import service as marketing
    from livecommerce.marketing.models import CreateTemplateRequest

    caller = operator()
    made = 0
    for product_id, name, price, stock, description in DEMO_PRODUCTS:
        image = f"https://img.example.com/demo/{product_id[-2:].lower()}.jpg"
        product = CreateProductRequest(name=name, images=[image], description=description, list_price=price,
                                       stock=stock)
        made += created(lambda: catalog.create_product(caller, product, product_id=product_id),
                        exists="product_exists")
    coupon = CreateTemplateRequest(name="积分兑换 · 无门槛 10 元", kind="no_threshold", amount=1000, threshold=0,
                                   total=10000, per_user_limit=5, valid_days=30, points_cost=500)
    made += created(lambda: marketing.create_template(caller, coupon, template_id=POINTS_TEMPLATE_ID),
                    exists="template_exists")
    return {"products": len(DEMO_PRODUCTS), "commerce_created": made}

"""The local seed makes the demo world through the contexts' services: the same rows and
the same domain events (through the outboxes, onto the bus) as the API calls would make,
and nothing more when it runs again."""
from __future__ import annotations

import json
from collections import Counter

import pytest

pytestmark = pytest.mark.integration


def _bus_events(session) -> Counter:
    """The detail types that reached the bus since the last call (the event log's rule
    matches every domain event; its delivery queue holds them until drained)."""
    from local.resources import LocalNames, delivery_queue_name

    sqs = session.client("sqs")
    url = sqs.get_queue_url(QueueName=delivery_queue_name(LocalNames(), "EventLog"))["QueueUrl"]
    seen: Counter = Counter()
    while True:
        messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        if not messages:
            return seen
        for message in messages:
            seen[json.loads(message["Body"])["detail-type"]] += 1
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])


def test_the_seed_goes_through_the_services_and_their_outboxes(api, aws_env):
    from local.seed import DEMO_HOSTS, DEMO_USERS, seed
    from local.seed import DEMO_PRODUCTS

    assert seed() == {"users": 5, "users_created": 5, "hosts_created": 2, "products": len(DEMO_PRODUCTS),
                      "commerce_created": len(DEMO_PRODUCTS) + 1}
    assert _bus_events(aws_env) == Counter({"UserRegistered": 5, "HostCreated": 2,
                                            "ProductCreated": len(DEMO_PRODUCTS), "CouponTemplateCreated": 1})

    roles = {}
    for user_id in DEMO_USERS:
        me = api.call("GET", "/v1/me", token=api.login(user_id))
        assert me.status == 200, me.body
        roles[user_id] = me.json()["roles"]
    assert roles == {"operator-1": ["operator", "viewer"], "host-1": ["host", "viewer"],
                     "host-2": ["host", "viewer"], "viewer-1": ["viewer"], "viewer-2": ["viewer"]}
    for host_id, profile in DEMO_HOSTS.items():
        host = api.call("GET", f"/v1/hosts/{host_id}").json()
        assert (host["display_name"], host["intro"]) == (profile["display_name"], profile["intro"])
    for product_id, name, price, stock, _ in DEMO_PRODUCTS:
        product = api.call("GET", f"/v1/products/{product_id}").json()
        assert (product["name"], product["list_price"], product["stock"]) == (name, price, stock)
    _bus_events(aws_env)   # the logins' events

    assert seed() == {"users": 5, "users_created": 0, "hosts_created": 0, "products": len(DEMO_PRODUCTS),
                      "commerce_created": 0}
    assert _bus_events(aws_env) == Counter()


def test_fixed_ids_that_are_taken_answer_409(aws_env):
    from livecommerce.catalog import service as catalog
    from livecommerce.catalog.models import CreateProductRequest
    from livecommerce.shared import problems
    from local.seed import operator

    body = CreateProductRequest(name="x", list_price=100, stock=1)
    catalog.create_product(operator(), body, product_id="01JDEM0000000000000000TEST")
    with pytest.raises(problems.Conflict) as taken:
        catalog.create_product(operator(), body, product_id="01JDEM0000000000000000TEST")
    assert taken.value.code == "product_exists"

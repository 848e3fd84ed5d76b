"""Coupon amounts, thresholds, totals and limits are JSON integers; coupon names
are clean text: through the real marketing handler, a bad value is 422 naming
the field and no template or drop is stored (issue 10, outcomes 5 and 6)."""
from __future__ import annotations

import pytest

from tests.integration.catalog.test_strict_catalog_fields import NOT_INTEGERS, refused
from tests.integration.commerce_fixtures import table_items

pytestmark = pytest.mark.integration


def _stored(session, prefix):
    return [i for i in table_items(session, "marketing") if str(i["pk"]).startswith(prefix)]


def test_template_money_and_counts_refuse_non_integers_and_store_nothing(shop, seeded):
    room_id = shop.room()
    good = {"name": "满100减20", "kind": "threshold", "amount": 2000, "threshold": 10000, "total": 100,
            "per_user_limit": 1, "valid_days": 7, "room_id": room_id}
    before = len(_stored(seeded, "CTPL#"))
    for field in ("amount", "threshold", "total", "per_user_limit", "valid_days"):
        for value in NOT_INTEGERS:
            refused(shop.call("POST", "/v1/coupon-templates", "host-1", {**good, field: value}), field)
    for value in NOT_INTEGERS:
        body = {**good, "room_id": None, "points_cost": value}
        refused(shop.call("POST", "/v1/coupon-templates", "operator-1", {k: v for k, v in body.items() if v is not None}),
                "points_cost")
    for value in ("满100减20\u202e", "满\x00减", "满100\n减20", "\u2066满减\u2069"):
        refused(shop.call("POST", "/v1/coupon-templates", "host-1", {**good, "name": value}), "name")
    assert len(_stored(seeded, "CTPL#")) == before


def test_drop_quantity_refuses_non_integers(shop, seeded):
    room_id = shop.room()
    tpl = shop.template(room_id, total=10)
    for value in NOT_INTEGERS:
        refused(shop.call("POST", f"/v1/rooms/{room_id}/coupon-drops", "host-1",
                          {"template_id": tpl["id"], "quantity": value}), "quantity")
    assert _stored(seeded, "CDROP#") == []

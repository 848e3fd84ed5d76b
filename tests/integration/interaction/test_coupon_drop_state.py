"""The open coupon drop as retained room state: a viewer who subscribes after the drop was announced
still gets it; its CouponDropExhausted clears it (an end of another drop does not), through the real
broadcasts handler, the local broker and moto."""
from __future__ import annotations

import time

import pytest

from tests.integration.interaction.test_room_state_feed import _event, _retained, broker_on_moto  # noqa: F401
from tests.integration.interaction.test_room_state_retained import ROOM, Viewer

pytestmark = pytest.mark.integration
pytest.importorskip("paho.mqtt.client")

DROP = {"drop_id": "01ARZ3NDEKTSV4RRFFQ69G5FD1", "template_id": "01ARZ3NDEKTSV4RRFFQ69G5FT1", "purpose": "claim",
        "quantity": 2, "drops_at": "2026-12-01T12:00:00Z", "name": "3元券", "kind": "no_threshold", "amount": 300,
        "threshold": 0}


def test_a_late_joiner_sees_the_open_drop_until_its_last_coupon_is_claimed(broker_on_moto):  # noqa: F811
    from livecommerce.interaction import broadcasts, room_state
    from livecommerce.marketing.events import CouponDropExhausted, CouponDropped

    broker, stage = broker_on_moto
    assert broadcasts.handle(_event(CouponDropped, "2026-12-01T12:00:00Z", **DROP)) == "published"
    late = Viewer(broker, stage, 1)
    try:
        got = _retained(late, late.subscribe_state(), {"coupon"})
        assert got["coupon"]["drop_id"] == DROP["drop_id"] and got["coupon"]["amount"] == 300
        assert got["coupon"]["type"] == "coupon_drop" and got["coupon"]["name"] == "3元券"
        # Another drop's end leaves it on show.
        assert broadcasts.handle(_event(CouponDropExhausted, "2026-12-01T12:00:05Z",
                                        drop_id="01ARZ3NDEKTSV4RRFFQ69G5FD2", quantity=1)) == "published"
        assert room_state.read(ROOM, "coupon")["drop_id"] == DROP["drop_id"]
        # Its own end clears it: the subscriber gets the empty retained payload.
        assert broadcasts.handle(_event(CouponDropExhausted, "2026-12-01T12:00:06Z",
                                        drop_id=DROP["drop_id"], quantity=2)) == "published"
        deadline = time.monotonic() + 3
        while True:
            topic, payload, _, _ = late.next(timeout=max(0.05, deadline - time.monotonic()))
            if topic.endswith("/state/coupon") and payload == b"":
                break
        assert room_state.read(ROOM, "coupon") is None
        # The drop's announcement delivered again later does not bring it back (older than the end).
        again = _event(CouponDropped, "2026-12-01T12:00:01Z", **DROP)
        broadcasts.handle(again)
        assert room_state.read(ROOM, "coupon") is None
    finally:
        late.close()

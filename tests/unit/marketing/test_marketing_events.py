"""Marketing's typed events: one model per type the spec emits; the JSON detail is what the
producers sent before they were typed; consumers parse it back."""
from __future__ import annotations

from livecommerce.marketing import events, spec

DROP = {"drop_id": "D1", "room_id": "R1", "template_id": "T1", "purpose": "claim", "quantity": 10,
        "drops_at": "2026-12-05T12:00:00Z", "name": "满100减20", "kind": "threshold", "amount": 2000,
        "threshold": 10000}


def test_one_model_per_emitted_type():
    assert [model.detail_type for model in events.ALL] == list(spec.SPEC.emits)


def test_a_drop_announced_at_once_has_no_scheduled_field_one_announced_by_its_timer_has():
    assert events.CouponDropped(**DROP).detail() == DROP
    assert events.CouponDropped(**DROP, scheduled=True).detail() == {**DROP, "scheduled": True}
    assert events.CouponDropScheduled(**DROP).detail() == DROP
    assert events.ShareRewardConfigured(**DROP).detail_type == "ShareRewardConfigured"


def test_fields_set_to_none_are_sent_as_before():
    created = events.CouponTemplateCreated(template_id="T1", room_id=None, kind="no_threshold", amount=500,
                                           threshold=0, total=100, created_by="op-1")
    assert created.detail() == {"template_id": "T1", "room_id": None, "kind": "no_threshold", "amount": 500,
                                "threshold": 0, "total": 100, "created_by": "op-1"}
    arrived = events.ShareArrived(room_id="R1", code="ABCDEFGHJK", sharer_id="u1", invitee_id="u2",
                                  rewarded=False, reason=None)
    assert arrived.detail()["reason"] is None and arrived.detail()["rewarded"] is False


def test_consumers_parse_a_published_detail_envelope_and_all():
    published = {**DROP, "scheduled": True, "event_id": "E1", "occurred_at": "2026-12-05T12:00:01Z",
                 "added_later": 1}
    parsed = events.CouponDropped.parse(published)
    assert parsed.drop_id == "D1" and parsed.scheduled is True and parsed.event_id == "E1"
    assert parsed.detail() == {**DROP, "scheduled": True}
    points = events.PointsChanged.parse({"user_id": "u1", "delta": -100, "reason": "redemption", "ref": "C1"})
    assert points.delta == -100

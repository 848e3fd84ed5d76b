"""The room rules with no I/O: who runs and sees a room, what an edit may change, what a
reservation needs, how rooms are listed and which past sessions an announcement shows."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from livecommerce.rooms import events, lifecycle, rules
from livecommerce.rooms.models import RoomRef
from livecommerce.shared import problems

NOW = datetime(2026, 12, 5, 12, 0, tzinfo=timezone.utc)
ROLES = st.sets(st.sampled_from(["viewer", "host", "operator"]))
USERS = st.sampled_from(["h1", "h2", "v1"])
STATUSES = st.sampled_from([lifecycle.SCHEDULED, lifecycle.LIVE, lifecycle.INTERRUPTED, lifecycle.ENDED])


@given(user=st.one_of(st.none(), USERS), roles=ROLES, host=USERS)
def test_operators_run_every_room_and_hosts_their_own(user, roles, host):
    expected = user is not None and ("operator" in roles or ("host" in roles and user == host))
    assert rules.can_run(user, roles, host) == expected
    assert rules.visible(user, roles, host, "public")
    assert rules.visible(user, roles, host, "test") == expected


@given(user=st.one_of(st.none(), USERS), roles=ROLES, host=USERS, visibility=st.sampled_from(["public", "test"]))
def test_the_face_view_applies_the_same_rule(user, roles, host, visibility):
    ref = RoomRef(room_id="R", host_id=host, status="scheduled", visibility=visibility,
                  scheduled_start="2026-12-06T12:00:00Z")
    assert ref.run_by(user, frozenset(roles)) == rules.can_run(user, roles, host)
    assert ref.visible_to(user, frozenset(roles)) == rules.visible(user, roles, host, visibility)


@given(st.timedeltas(min_value=timedelta(days=-400), max_value=timedelta(days=400)))
def test_a_start_is_in_the_future_and_at_most_180_days_ahead(ahead):
    start = NOW + ahead
    if timedelta(0) < ahead <= rules.MAX_SCHEDULE_AHEAD:
        assert rules.check_start(start, NOW).endswith("Z")
    else:
        with pytest.raises(problems.ValidationFailed):
            rules.check_start(start, NOW)


def test_start_boundaries():
    with pytest.raises(problems.ValidationFailed):
        rules.check_start(NOW, NOW)
    rules.check_start(NOW + timedelta(microseconds=1), NOW)
    rules.check_start(NOW + timedelta(days=180), NOW)
    with pytest.raises(problems.ValidationFailed):
        rules.check_start(NOW + timedelta(days=180, seconds=1), NOW)


def test_only_scheduled_rooms_are_editable():
    rules.check_editable(lifecycle.SCHEDULED)
    for status in (lifecycle.LIVE, lifecycle.INTERRUPTED, lifecycle.ENDED):
        with pytest.raises(problems.Conflict) as refused:
            rules.check_editable(status)
        assert refused.value.code == "room_started"


def test_edit_values_check_each_field():
    with pytest.raises(problems.BadRequest):
        rules.edit_values({}, NOW)
    values = rules.edit_values({"title": "New", "topic": None, "scheduled_start": NOW + timedelta(hours=1)}, NOW)
    assert values == {"title": "New", "topic": None, "scheduled_start": rules.check_start(NOW + timedelta(hours=1), NOW)}
    for field in rules.NOT_NULL_ON_EDIT:
        with pytest.raises(problems.ValidationFailed) as refused:
            rules.edit_values({field: None}, NOW)
        assert refused.value.to_dict()["errors"][0]["field"] == f"body.{field}"
    with pytest.raises(problems.ValidationFailed):
        rules.edit_values({"scheduled_start": NOW - timedelta(minutes=1)}, NOW)


@given(subscribe=st.booleans(), sms=st.booleans(), phone=st.one_of(st.none(), st.just("13800138000")))
def test_a_reservation_needs_a_channel_and_sms_needs_a_phone(subscribe, sms, phone):
    ok = (subscribe or sms) and (not sms or phone)
    if ok:
        rules.check_reservation_channels(subscribe_message=subscribe, sms=sms, phone=phone)
    else:
        with pytest.raises(problems.ValidationFailed):
            rules.check_reservation_channels(subscribe_message=subscribe, sms=sms, phone=phone)


def test_reservations_close_when_the_room_ends():
    for status in rules.RESERVABLE_STATUSES:
        rules.check_reservable(status)
    with pytest.raises(problems.Conflict):
        rules.check_reservable(lifecycle.ENDED)


@given(st.text(alphabet="0123456789", min_size=7, max_size=15))
def test_a_masked_phone_shows_three_then_four_digits(phone):
    masked = rules.mask_phone(phone)
    assert masked == phone[:3] + "****" + phone[-4:]
    assert len(masked) == 11 and masked[3:7] == "****"   # the middle digits never show, however many


@given(status=STATUSES, visibility=st.sampled_from(["public", "test"]),
       ended=st.one_of(st.none(), st.just("2026-12-07T10:00:00Z")))
def test_listing_keys(status, visibility, ended):
    keys = rules.index_keys(room_id="R1", host_id="h1", visibility=visibility, status=status,
                            scheduled_start="2026-12-06T12:00:00Z", ended_at=ended)
    assert (keys.gsi2pk, keys.gsi2sk) == ("HOST#h1", "2026-12-06T12:00:00Z#R1")   # every room, under its host
    if visibility == "test":
        assert keys.gsi1pk is None and keys.gsi1sk is None                       # never in public lists
        return
    assert keys.gsi1pk == f"STATUS#{'live' if status == lifecycle.INTERRUPTED else status}"
    by_end = status == lifecycle.ENDED and ended is not None
    assert keys.gsi1sk == f"{ended if by_end else '2026-12-06T12:00:00Z'}#R1"


PAST = st.builds(rules.PastRoom, room_id=st.sampled_from(["R1", "R2", "R3", "R4"]), title=st.just("t"),
                 status=STATUSES, visibility=st.sampled_from(["public", "test"]),
                 ended_at=st.just("2026-12-01T00:00:00Z"))


@given(rooms=st.lists(PAST, max_size=30), limit=st.integers(min_value=0, max_value=12))
def test_past_sessions_are_ended_public_other_rooms_in_order(rooms, limit):
    shown = rules.past_sessions(rooms, current_room_id="R1", limit=limit)
    eligible = [r for r in rooms if r.status == lifecycle.ENDED and r.visibility == "public" and r.room_id != "R1"]
    assert shown == eligible[:limit]


def test_every_transition_has_a_typed_event_carrying_the_room():
    names = {name for names in lifecycle.TRANSITION_EVENTS.values() for name in names}
    assert names == set(events.LIFECYCLE_EVENTS)
    room = {"room_id": "R", "host_id": "h", "status": "live", "scheduled_start": "S", "visibility": "public",
            "channel_arn": None}
    started = events.RoomStarted(**room, previous_status="scheduled", cause="host")
    # The JSON detail is what the untyped producer sent: a channel not yet provisioned is null.
    assert started.detail() == {**room, "previous_status": "scheduled", "cause": "host"}
    assert events.RoomStarted.parse({**started.detail(), "event_id": "E"}).event_id == "E"
    updated = events.RoomUpdated(**room, changed=["title"], previous_scheduled_start="S0")
    assert updated.detail() == {**room, "changed": ["title"], "previous_scheduled_start": "S0"}
    assert set(events.EVENTS) >= set(events.LIFECYCLE_EVENTS.values())

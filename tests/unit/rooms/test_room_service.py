"""Rooms' use cases with the bus and clock as in-memory fakes and the tables in moto:
reservation counting, room edits, the announcement, and the public face."""
from __future__ import annotations

import itertools
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from livecommerce import rooms
from livecommerce.identity import service as identity_service
from livecommerce.rooms import announcement, events, lifecycle, repository, service
from livecommerce.rooms.models import ReservationRequest, UpdateRoomRequest
from livecommerce.rooms.storage import RoomItem
from livecommerce.shared import problems
from livecommerce.shared.api import Caller

START = "2026-12-06T12:00:00Z"          # a day after the fake clock's now
HOST = Caller(user_id="h1", roles=frozenset({"viewer", "host"}))
OTHER_HOST = Caller(user_id="h2", roles=frozenset({"viewer", "host"}))
OPERATOR = Caller(user_id="op", roles=frozenset({"viewer", "operator"}))
_ids = itertools.count()


def viewer(user_id: str) -> Caller:
    return Caller(user_id=user_id, roles=frozenset({"viewer"}))


def seed_room(*, status: str = lifecycle.SCHEDULED, visibility: str = "public", host_id: str = "h1",
              title: str = "Tea", ended_at: str | None = None) -> str:
    room_id = f"01JROOM{next(_ids):019d}"
    item = RoomItem(*RoomItem.key(room_id), room_id=room_id, host_id=host_id, title=title, visibility=visibility,
                    scheduled_start=START, status=status, reservation_count=0, ended_at=ended_at,
                    created_at=START, updated_at=START, version=0)
    service._index_keys(item)
    repository.put_new_room(item, [])
    return room_id


def count(room_id: str) -> int:
    return int(repository.get_room(room_id, consistent=True).reservation_count or 0)


REMIND = ReservationRequest(subscribe_message=True)


def test_a_reservation_counts_once_and_is_announced_once(fakes):
    room_id = seed_room()
    made, created = service.reserve(viewer("v1"), room_id, REMIND)
    again, created_again = service.reserve(viewer("v1"), room_id, ReservationRequest(subscribe_message=True, sms=False))
    assert (created, made.reservation_count) == (True, 1)
    assert (created_again, again.reservation_count) == (False, 1)
    [detail] = fakes.of("ReservationMade")
    assert {k: v for k, v in detail.items() if k not in ("event_id", "occurred_at")} == {
        "room_id": room_id, "viewer_id": "v1", "scheduled_start": START, "subscribe_message": True, "sms": False}
    assert events.ReservationMade.parse(detail).viewer_id == "v1"


def test_cancelling_uncounts_once(fakes):
    room_id = seed_room()
    service.reserve(viewer("v1"), room_id, REMIND)
    first = service.cancel_reservation(viewer("v1"), room_id)
    second = service.cancel_reservation(viewer("v1"), room_id)
    assert (first["changed"], first["reservation_count"]) == (True, 0)
    assert (second["changed"], second["reservation_count"]) == (False, 0)
    assert [d["viewer_id"] for d in fakes.of("ReservationCancelled")] == ["v1"]


@settings(max_examples=12, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.booleans(), st.sampled_from(["a", "b", "c"])), max_size=10))
def test_the_count_is_the_number_of_reservers_whatever_the_order(fakes, steps):
    room_id = seed_room()
    reserved: set[str] = set()
    for reserve, who in steps:
        if reserve:
            _, created = service.reserve(viewer(who), room_id, REMIND)
            assert created == (who not in reserved)
            reserved.add(who)
        else:
            assert service.cancel_reservation(viewer(who), room_id)["changed"] == (who in reserved)
            reserved.discard(who)
        assert count(room_id) == len(reserved)


def test_reservations_need_a_visible_open_room(fakes):
    with pytest.raises(problems.Conflict) as ended:
        service.reserve(viewer("v1"), seed_room(status=lifecycle.ENDED), REMIND)
    assert ended.value.code == "room_ended"
    with pytest.raises(problems.NotFound):
        service.reserve(viewer("v1"), seed_room(visibility="test"), REMIND)
    with pytest.raises(problems.ValidationFailed):
        service.reserve(viewer("v1"), seed_room(), ReservationRequest(subscribe_message=False, sms=False))
    assert fakes.events == []


def test_the_host_edits_a_scheduled_room_and_reservations_follow_the_new_start(fakes, clock):
    room_id = seed_room()
    service.reserve(viewer("v1"), room_id, REMIND)
    new_start = clock.now() + timedelta(days=2)
    room = service.update_room(HOST, room_id, UpdateRoomRequest(title="Green tea", scheduled_start=new_start))
    assert room.title == "Green tea" and room.scheduled_start == "2026-12-07T12:00:00Z"
    [detail] = fakes.of("RoomUpdated")
    updated = events.RoomUpdated.parse(detail)
    assert (updated.changed, updated.previous_scheduled_start) == (["scheduled_start", "title"], START)
    assert (updated.scheduled_start, updated.status, updated.channel_arn) == (room.scheduled_start, "scheduled", None)
    assert repository.get_reservation(room_id, "v1").scheduled_start == room.scheduled_start


def test_who_may_edit_and_when(fakes, clock):
    public, test = seed_room(), seed_room(visibility="test")
    with pytest.raises(problems.Forbidden):
        service.update_room(OTHER_HOST, public, UpdateRoomRequest(title="x"))
    with pytest.raises(problems.NotFound):
        service.update_room(OTHER_HOST, test, UpdateRoomRequest(title="x"))
    assert service.update_room(OPERATOR, test, UpdateRoomRequest(title="ops")).title == "ops"
    with pytest.raises(problems.Conflict):
        service.update_room(HOST, seed_room(status=lifecycle.LIVE), UpdateRoomRequest(title="x"))
    with pytest.raises(problems.ValidationFailed):
        service.update_room(HOST, public, UpdateRoomRequest(scheduled_start=clock.now() - timedelta(hours=1)))
    with pytest.raises(ValidationError):   # the model refuses a null title (422 validation_failed on the wire)
        UpdateRoomRequest(title=None)
    with pytest.raises(problems.ValidationFailed):   # and the rule stays behind it
        service.update_room(HOST, public, UpdateRoomRequest.model_construct(_fields_set={"title"}, title=None))
    assert [kind for kind, _ in fakes.events] == ["RoomUpdated"]


def test_the_announcement_shows_the_host_card_and_only_ended_public_past_sessions(fakes):
    identity_service.register_dev_user("h1")
    identity_service.create_host(OPERATOR, user_id="h1", display_name="A Qing", intro="Tea farm", avatar=None)
    earlier = seed_room(status=lifecycle.ENDED, ended_at="2026-12-01T00:00:00Z", title="Last week")
    seed_room(status=lifecycle.ENDED, visibility="test", ended_at="2026-12-02T00:00:00Z")
    seed_room(status=lifecycle.SCHEDULED)
    room_id = seed_room()
    service.reserve(viewer("v1"), room_id, REMIND)
    seen = announcement.announcement(viewer("v1"), room_id)
    assert (seen.host.id, seen.host.display_name, seen.host.intro, seen.host.follower_count) == \
        ("h1", "A Qing", "Tea farm", 0)
    assert [(p.room_id, p.title) for p in seen.past_sessions] == [(earlier, "Last week")]
    assert seen.past_sessions[0].replay == f"/v1/rooms/{earlier}/replay"
    assert (seen.reservation_count, seen.reserved_by_me) == (1, True)
    assert announcement.announcement(None, room_id).reserved_by_me is None
    assert seen.hot_products == []


def test_the_announcements_shared_part_is_read_once_for_a_crowd_and_fresh_for_the_host(fakes, monkeypatch):
    identity_service.register_dev_user("h1")
    identity_service.create_host(OPERATOR, user_id="h1", display_name="A Qing", intro="Tea farm", avatar=None)
    room_id, other_room = seed_room(), seed_room()
    service.reserve(viewer("v1"), room_id, REMIND)
    reads: list[str] = []

    def counted(target, name: str, label: str) -> None:
        original = getattr(target, name)
        monkeypatch.setattr(target, name, lambda *a, **k: (reads.append(label), original(*a, **k))[1])

    counted(announcement.identity, "find_host", "host")
    counted(announcement.catalog, "hot_products", "hot")
    counted(announcement.repository, "rooms_of_host", "past")

    first = announcement.announcement(viewer("v1"), room_id)
    second = announcement.announcement(viewer("v2"), room_id)
    assert sorted(reads) == ["host", "hot", "past"]              # once for both viewers
    assert (first.reserved_by_me, second.reserved_by_me) == (True, False)   # each caller's own, every time
    assert second.host.display_name == "A Qing" and second.reservation_count == 1
    announcement.announcement(viewer("v3"), other_room)           # another room: its own shared part
    assert len(reads) == 6
    announcement.announcement(HOST, room_id)                      # the room's host: always fresh
    assert len(reads) == 9
    announcement.shared_parts_cache().clear()
    announcement.announcement(None, room_id)                      # after the cache's time: read again
    assert len(reads) == 12


def test_the_public_face_gives_room_refs(fakes):
    public, test = seed_room(), seed_room(visibility="test")
    ref = rooms.get_room(public)
    assert isinstance(ref, rooms.RoomRef) and (ref.host_id, ref.status, ref.visibility) == ("h1", "scheduled", "public")
    assert rooms.get_room("01JNOSUCHROOM0000000000000") is None
    assert rooms.require_room_host(HOST, test).room_id == test
    with pytest.raises(problems.NotFound):
        rooms.require_room_host(OTHER_HOST, test)
    with pytest.raises(problems.Forbidden):
        rooms.require_room_host(OTHER_HOST, public)
    with pytest.raises(problems.NotFound) as hidden:
        rooms.require_visible(test, viewer("v1"))
    with pytest.raises(problems.NotFound) as missing:
        rooms.require_visible("01JNOSUCHROOM0000000000000", viewer("v1"))
    assert hidden.value.to_dict() == missing.value.to_dict()      # a test room looks like no room
    with pytest.raises(problems.NotFound):
        rooms.require_visible(test, None)
    with pytest.raises(problems.NotFound):
        rooms.require_visible(test, OTHER_HOST)
    assert rooms.require_visible(test, HOST).room_id == test
    assert rooms.require_visible(public, None).room_id == public
    entity_gone = problems.NotFound("No such flash sale.", code="flash_sale_not_found")
    with pytest.raises(problems.NotFound) as as_entity:
        rooms.require_visible(test, viewer("v1"), hidden=entity_gone)
    assert as_entity.value.code == "flash_sale_not_found"


def test_stranded_room_events_are_swept_once(fakes, bus):
    room_id = seed_room()

    def bus_down(*args, **kwargs):
        raise RuntimeError("bus unavailable")

    bus.put = bus_down
    service.reserve(viewer("v1"), room_id, REMIND)     # committed; the event waits in the outbox
    del bus.put
    assert fakes.events == []
    assert rooms.sweep_outbox(older_than_seconds=-5) == 1
    assert rooms.sweep_outbox(older_than_seconds=-5) == 0
    assert [d["room_id"] for d in fakes.of("ReservationMade")] == [room_id]

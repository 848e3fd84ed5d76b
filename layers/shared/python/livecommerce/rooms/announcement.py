"""The room's announcement page: the room, its host's card, reservations, hot products and
past sessions. A read model over three contexts: it asks identity (the host card) and catalog
(hot products) through their public faces. It lives apart from rooms/service.py because
catalog calls rooms' face (host checks): the service must not import catalog back."""
from __future__ import annotations

from typing import NamedTuple

from livecommerce import catalog, identity
from livecommerce.rooms import repository, rules, service
from livecommerce.rooms.models import Announcement, HostCard, PastSession
from livecommerce.shared.api import Caller
from livecommerce.shared.ttl_cache import TtlCache

# The part of the page that is the same for every viewer (the host's profile, past sessions, hot
# products) is kept this long per container: a crowd reloading one room's page read three items
# from three tables per view (5 DynamoDB calls a view with the room and the caller's reservation,
# the most of any read in the crowd mix; docs/local_load.md). The room itself and the caller's own
# reservation are read every time, and the room's host always gets the shared part fresh (they
# edit what it shows).
SHARED_PART_SECONDS = 2.0


class _SharedPart(NamedTuple):
    host: identity.Host | None
    past: list[PastSession]
    hot_products: list[dict]


_shared_parts: TtlCache[str, _SharedPart] = TtlCache(SHARED_PART_SECONDS)


def announcement(caller: Caller | None, room_id: str) -> Announcement:
    item = service.load_visible(caller, room_id)

    def load() -> _SharedPart:
        earlier = (rules.PastRoom(r.room_id, r.title, r.status, r.visibility, r.ended_at)
                   for r in repository.rooms_of_host(item.host_id, limit=20))
        past = [PastSession(room_id=r.room_id, title=r.title, ended_at=r.ended_at,
                            replay=f"/v1/rooms/{r.room_id}/replay")
                for r in rules.past_sessions(earlier, current_room_id=room_id)]
        return _SharedPart(identity.find_host(item.host_id), past, catalog.hot_products(room_id))

    shared = _shared_parts.get(room_id, load, fresh=caller is not None and caller.user_id == item.host_id)
    host = shared.host
    host_card = HostCard(id=host.id, display_name=host.display_name, avatar=host.avatar,
                         intro=item.host_intro or host.intro, follower_count=host.follower_count) \
        if host else None
    reserved = None
    if caller is not None:
        reserved = repository.get_reservation(room_id, caller.user_id) is not None
    return Announcement(room=service.room_view(item), host=host_card,
                        reservation_count=int(item.reservation_count or 0), reserved_by_me=reserved,
                        hot_products=[dict(card) for card in shared.hot_products],
                        past_sessions=list(shared.past))


def shared_parts_cache() -> TtlCache[str, _SharedPart]:
    return _shared_parts

"""The room's announcement page: the room, its host's card, reservations, hot products and
past sessions. A read model over three contexts: it asks identity (the host card) and catalog
(hot products) through their public faces. It lives apart from rooms/service.py because
catalog calls rooms' face (host checks): the service must not import catalog back."""
from __future__ import annotations

from livecommerce import catalog, identity
from livecommerce.rooms import repository, rules, service
from livecommerce.rooms.models import Announcement, HostCard, PastSession
from livecommerce.shared.api import Caller


def announcement(caller: Caller | None, room_id: str) -> Announcement:
    item = service.load_visible(caller, room_id)
    host = identity.find_host(item.host_id)
    host_card = HostCard(id=host.id, display_name=host.display_name, avatar=host.avatar,
                         intro=item.host_intro or host.intro, follower_count=host.follower_count) \
        if host else None
    earlier = (rules.PastRoom(r.room_id, r.title, r.status, r.visibility, r.ended_at)
               for r in repository.rooms_of_host(item.host_id, limit=20))
    past = [PastSession(room_id=r.room_id, title=r.title, ended_at=r.ended_at, replay=f"/v1/rooms/{r.room_id}/replay")
            for r in rules.past_sessions(earlier, current_room_id=room_id)]
    reserved = None
    if caller is not None:
        reserved = repository.get_reservation(room_id, caller.user_id) is not None
    return Announcement(room=service.room_view(item), host=host_card,
                        reservation_count=int(item.reservation_count or 0), reserved_by_me=reserved,
                        hot_products=catalog.hot_products(room_id), past_sessions=past)

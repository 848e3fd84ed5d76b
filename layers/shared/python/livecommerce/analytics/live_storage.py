"""The LiveStats table's items (PynamoDB).

    CLIENT#<client id> / PRESENCE           state in|out, at_ms, room_id, user_id (one per client)
    ROOM#<room>#VIEWER#<user> / SEEN        a viewer who joined (cumulative viewers, counted once)
    ORDER#<order id> / COUNTED              an OrderPaid counted (once, whatever the redeliveries)
    ROOM#<room>#SHARD#<k> / COUNTS          online, cumulative, orders, gmv (sharded counters)
    ROOM#<room> / MINUTE#<minute>           online (max sampled), orders, gmv of the minute
    ROOM#<room> / TICKER                    the ticker lease (ticker_id, lease_until), peak, peak_at

Items expire (expires_at) two days after their last write.
"""
from __future__ import annotations

from pynamodb.attributes import NumberAttribute, UnicodeAttribute

from livecommerce.shared.storage import KeyedItem


class LiveItem(KeyedItem):
    class Meta:
        table_name = "unbound"

    state = UnicodeAttribute(null=True)
    at_ms = NumberAttribute(null=True)
    room_id = UnicodeAttribute(null=True)
    user_id = UnicodeAttribute(null=True)
    online = NumberAttribute(null=True)
    cumulative = NumberAttribute(null=True)
    orders = NumberAttribute(null=True)
    gmv = NumberAttribute(null=True)
    peak = NumberAttribute(null=True)
    peak_at = UnicodeAttribute(null=True)
    ticker_id = UnicodeAttribute(null=True)
    lease_until = NumberAttribute(null=True)
    expires_at = NumberAttribute(null=True)

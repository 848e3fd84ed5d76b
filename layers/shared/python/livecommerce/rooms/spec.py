"""What the rooms context declares: its table, routes, functions, subscriptions and events."""
from __future__ import annotations

from livecommerce.shared.spec import IVS_SOURCE, ContextSpec, FunctionSpec, IndexSpec, Route, Subscription, TableSpec

# Rooms: the room (announcement, schedule, channel, lifecycle), its
# reservations, stream sessions, materials and outbox. gsi1 lists rooms by
# status in start order; gsi2 lists a host's rooms and a viewer's reservations.
ROOMS = TableSpec(
    logical_id="Rooms",
    env_var="ROOMS_TABLE",
    indexes=(IndexSpec("gsi1", "gsi1pk", "gsi1sk"), IndexSpec("gsi2", "gsi2pk", "gsi2sk")),
    ttl_attribute="expires_at",
)

SPEC = ContextSpec(
    name="rooms",
    description="Announcements, schedule, reservations, stream lifecycle, materials",
    tables=(ROOMS,),
    routes=(
        Route("POST", "/v1/rooms", "rooms", "token", "host"),
        Route("GET", "/v1/rooms", "rooms", "public", "anyone"),
        Route("GET", "/v1/rooms/{room_id}", "rooms", "public", "anyone"),
        Route("PATCH", "/v1/rooms/{room_id}", "rooms", "token", "host"),
        Route("PUT", "/v1/rooms/{room_id}/reservation", "rooms", "token", "viewer"),
        Route("DELETE", "/v1/rooms/{room_id}/reservation", "rooms", "token", "viewer"),
        Route("GET", "/v1/me/reservations", "rooms", "token", "viewer"),
        Route("GET", "/v1/rooms/{room_id}/ingest", "rooms", "token", "host"),
        # API.md wrote `stream-key:rotate`; API Gateway resource paths do not allow ':'.
        Route("POST", "/v1/rooms/{room_id}/stream-key/rotate", "rooms", "token", "host"),
        Route("GET", "/v1/rooms/{room_id}/playback", "rooms", "token", "viewer"),
        Route("POST", "/v1/rooms/{room_id}/start", "rooms", "token", "host"),
        Route("POST", "/v1/rooms/{room_id}/end", "rooms", "token", "host"),
        Route("POST", "/v1/rooms/{room_id}/materials", "rooms", "token", "host"),
        Route("GET", "/v1/rooms/{room_id}/materials", "rooms", "token", "host"),
        # Cover images uploaded from the console (rooms.covers): a presigned POST, then the check.
        Route("POST", "/v1/rooms/{room_id}/cover-uploads", "rooms", "token", "host",
              errors=(409,)),   # room_started
        Route("PUT", "/v1/rooms/{room_id}/cover", "rooms", "token", "host",
              errors=(409,)),   # cover_not_uploaded, room_started; 422 cover_rejected
        # Room assistants (stored by identity; the host of the room or an operator names them).
        Route("PUT", "/v1/rooms/{room_id}/assistants/{user_id}", "rooms", "token", "host",
              errors=(400,)),   # self_assistant; 404 user_not_found
        Route("DELETE", "/v1/rooms/{room_id}/assistants/{user_id}", "rooms", "token", "host"),
        Route("GET", "/v1/rooms/{room_id}/assistants", "rooms", "token", "host"),
    ),
    subscriptions=(
        # IVS stream and recording state changes drive the room lifecycle.
        Subscription("StreamState", "stream_events", source=IVS_SOURCE, bus="default",
                     detail_types=("IVS Stream State Change", "IVS Recording State Change")),
    ),
    functions=(
        FunctionSpec(
            name="rooms",
            description="Rooms: announcements, reservations, ingest, playback, lifecycle, materials",
            # Room assistant grants are identity's items (identity.grant_assistant).
            tables_write=(ROOMS, "Identity"),
            # Host profiles (get_host); the announcement's hot products (livecommerce.catalog.hot_products).
            tables_read=("Catalog",),
            reads_token_secret=True,                 # optional_caller verifies tokens on public routes
            reads_cursor_secret=True,                # GET /v1/rooms, /v1/me/reservations
            reads_playback_key=True,                 # signs ES384 playback tokens
            puts_events=True,                        # the rooms outbox
            pii_encryption_context=("room_id", "viewer_id"),   # reservation phone numbers
            materials_prefix="rooms/",               # rooms/<room_id>/materials/<id>
            public_covers=True,                      # public rooms' covers copied for the CDN (rooms.public_covers)
            # livecommerce.media.channels: provisioning (ListChannels by name, CreateChannel
            # with tags, GetChannel), stream keys (List/Get/Create/Delete), StopStream, and
            # DeleteChannel for a duplicate channel lost in a create race.
            ivs_actions=("CreateChannel", "GetChannel", "ListChannels", "TagResource", "DeleteChannel",
                         "StopStream", "CreateStreamKey", "GetStreamKey", "ListStreamKeys", "DeleteStreamKey"),
            media_settings=True,
            # Channel provisioning is a few IVS calls (5 TPS, retried when throttled);
            # API Gateway waits 29 s at most.
            timeout_seconds=20,
        ),
        FunctionSpec(
            name="stream_events",
            description="IVS stream and recording state changes drive the room lifecycle",
            # Records stream facts and the derived room status, then publishes the
            # outbox; it makes no IVS call.
            tables_write=(ROOMS,),
            puts_events=True,
            media_settings=True,
            # A stream end held by a planned switch (lifecycle.held_by_switch): one asynchronous
            # invocation of itself sleeps until the window closes (PLANNED_SWITCH_SECONDS = 30) and
            # derives the status again.
            invokes=("stream_events",),
            memory_mb=256,
            timeout_seconds=45,
        ),
        FunctionSpec(
            name="outbox_sweeper",
            description="Every minute: publishes domain events a crash left in the rooms and identity outboxes",
            # Queries each table's pending-outbox index (gsi1), publishes, deletes the outbox items.
            tables_write=(ROOMS, "Identity"),
            puts_events=True,
            schedule="rate(1 minute)",
            memory_mb=256,
            timeout_seconds=50,   # finishes before the next tick
        ),
    ),
    emits=("RoomCreated", "RoomUpdated", "ReservationMade", "ReservationCancelled",
           "RoomStarted", "StreamInterrupted", "StreamResumed", "RoomEnded"),
    router="livecommerce.rooms.router",
)

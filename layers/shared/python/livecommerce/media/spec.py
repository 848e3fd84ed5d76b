"""What the media context declares. Channels and playback are provisioned through
its face by the rooms function (IVS's stream events reach rooms.spec); the media
context itself owns the co-streaming side: the IVS real-time stage of a room, its
seats (invitations, applications, guests on screen), the composition into the
room's channel, and host-versus-host PK (docs/costreaming.md)."""
from __future__ import annotations

from livecommerce.shared.spec import (IVS_SOURCE, ContextSpec, FunctionSpec, IndexSpec, LongRun, Route,
                                     StateMachineSpec, Subscription, TableSpec)

# Media: one table for the co-streaming state (single table, pk/sk):
#
#   STAGE#<room>      META            the room's stage (ARN, created once by a conditional write), layout,
#                                     composition, publishers on screen (a counter with a condition < 12), PK link
#   STAGE#<room>      SEAT#<seat id>  an invitation, an application or a guest: who, state, participant id
#   PART#<participant id>  META       which seat a stage participant id belongs to (IVS stage events)
#   PK#<pk id>        META            a PK window: the two rooms, rule, baselines, scores, ends at, result
#   PK#<pk id>        ORDER#<order>   an order counted once for the sales score
#   <aggregate>       OUTBOX#<ulid>   domain events (gsi1: pending, sharded)
MEDIA = TableSpec(
    logical_id="Media",
    env_var="MEDIA_TABLE",
    indexes=(IndexSpec("gsi1", "gsi1pk", "gsi1sk"),),
    ttl_attribute="expires_at",
)

# The IVS real-time actions the co-streaming function calls (livecommerce.media.stages).
STAGE_ACTIONS = ("CreateStage", "GetStage", "DeleteStage", "CreateParticipantToken",
                 "DisconnectParticipant", "StartComposition", "StopComposition", "GetComposition",
                 "StartParticipantReplication", "StopParticipantReplication", "TagResource")

# Replays (docs/replays.md): statemachines/replay.asl.json, started by the replay_tasks function on IVS
# "Recording End" or on the creation of <prefix>/events/recording-ended.json (S3 EventBridge notification).
REPLAY = StateMachineSpec(
    key="replay",
    asl="replay",
    name="replay",
    tasks=(("ReplayTasksFunctionArn", "replay_tasks"),),
    description="Replay of a recording: finds it, re-times the room's product timeline, writes per-product clips",
)
RECORDING_ENDED_SUFFIX = "/events/recording-ended.json"

SPEC = ContextSpec(
    name="media",
    description="IVS channels, stream keys, playback tokens; real-time stages for co-streaming and PK",
    tables=(MEDIA,),
    routes=(
        Route("GET", "/v1/rooms/{room_id}/costream", "costream", "token", "viewer"),
        Route("POST", "/v1/rooms/{room_id}/costream/requests", "costream", "token", "viewer",
              errors=(403,)),   # not live, co-streaming closed
        Route("POST", "/v1/rooms/{room_id}/costream/requests/{request_id}/accept", "costream", "token", "host",
              errors=(503,)),   # 409 stage_full / not pending; 503 the video service
        Route("DELETE", "/v1/rooms/{room_id}/costream/requests/{request_id}", "costream", "token", "viewer",
              errors=(403, 503)),   # only the host or the seat's own user
        Route("POST", "/v1/rooms/{room_id}/costream/invitations", "costream", "token", "host",
              errors=(404, 503)),   # the invitee does not exist
        Route("POST", "/v1/rooms/{room_id}/costream/invitations/{request_id}/accept", "costream", "token",
              "viewer", errors=(403, 503)),   # not the invitee
        Route("POST", "/v1/rooms/{room_id}/costream/guests/{request_id}/mute", "costream", "token", "host"),
        Route("PUT", "/v1/rooms/{room_id}/costream/layout", "costream", "token", "host", errors=(503,)),
        Route("POST", "/v1/rooms/{room_id}/pk", "costream", "token", "host",
              errors=(404, 503)),   # the other room does not exist / is not live (409)
        Route("DELETE", "/v1/rooms/{room_id}/pk", "costream", "token", "host", errors=(503,)),
        # Replays: 404 replay_not_found, 409 replay_not_ready (derived: room_from); 422 clip_outside_recording.
        Route("GET", "/v1/rooms/{room_id}/replay", "replays", "token", "viewer", errors=(409,)),
        Route("GET", "/v1/rooms/{room_id}/replay/clips", "replays", "token", "viewer", errors=(409,)),
        Route("POST", "/v1/rooms/{room_id}/replay/clips", "replays", "token", "host", errors=(409,)),
    ),
    subscriptions=(
        # The room ended: the stage is deleted, seats closed, a running PK finished.
        Subscription("CostreamRoomLifecycle", "costream_events", detail_types=("RoomEnded",)),
        # Sales in a PK window.
        Subscription("CostreamPkSales", "costream_events", detail_types=("OrderPaid",)),
        # IVS real-time: participants joining, publishing, leaving; composition state.
        Subscription("CostreamStageEvents", "costream_events", source=IVS_SOURCE, bus="default",
                     detail_types=("IVS Stage Update", "IVS Composition State Change")),
        # Replays: IVS Recording End, or recording-ended.json created (if the event never comes).
        Subscription("ReplayRecordingEnd", "replay_tasks", source=IVS_SOURCE, bus="default",
                     detail_types=("IVS Recording State Change",),
                     detail={"recording_status": ["Recording End"]}),
        Subscription("ReplayRecordingObject", "replay_tasks", source="aws.s3", bus="default",
                     detail_types=("Object Created",),
                     detail={"object": {"key": [{"suffix": RECORDING_ENDED_SUFFIX}]}}),
        # The room's moments for the replay's product timeline.
        Subscription("ReplayMarks", "replay_tasks",
                     detail_types=("ProductListed", "FlashSaleStarted", "CouponDropped", "LotteryOpened")),
    ),
    functions=(
        FunctionSpec(
            name="costream",
            description="Co-streaming: stages, invitations, applications, guests, layout, PK",
            tables_write=(MEDIA,),
            tables_read=("Rooms", "Identity", "Interaction"),   # rooms' host and status; users; like totals
            reads_token_secret=True,
            puts_events=True,
            ivs_actions=STAGE_ACTIONS,
            invokes=("pk_clock",),
            timeout_seconds=20,
        ),
        FunctionSpec(
            name="costream_events",
            description="Room ended (stage deleted), PK sales, IVS stage and composition events",
            tables_write=(MEDIA,),
            tables_read=("Rooms",),
            puts_events=True,
            ivs_actions=("DeleteStage", "StopComposition", "DisconnectParticipant", "StopParticipantReplication"),
            memory_mb=256,
        ),
        FunctionSpec(
            name="replays",
            description="Replays: the replay of a room (playlist, duration, thumbnails, timeline), its clips, cut a clip",
            tables_write=(MEDIA,),
            tables_read=("Rooms",),
            reads_token_secret=True,
            reads_playback_key=True,        # signs the replay URLs' ES384 tokens (media.playback.sign_replay_token)
            recordings_access="write",      # reads the recorded playlists, writes a clip's playlists
            memory_mb=512,
        ),
        FunctionSpec(
            name="replay_tasks",
            description="Replay machine tasks and its starter (IVS Recording End, recording-ended.json created); "
                        "the room's marks for the timeline",
            tables_write=(MEDIA,),
            tables_read=("Rooms",),
            puts_events=True,               # ReplayReady
            ivs_actions=("GetChannel",),    # the room of a recording found by its S3 object only
            recordings_access="write",      # reads the recording, writes per-product clip playlists
            starts_workflows=("replay",),
            memory_mb=512,
            timeout_seconds=60,
        ),
        FunctionSpec(
            name="pk_clock",
            description="A PK window's clock: the score at most once a second, the result at the end",
            tables_write=(MEDIA,),
            tables_read=("Interaction",),   # like totals
            puts_events=True,
            ivs_actions=("StopParticipantReplication",),
            memory_mb=256,
            schedule="rate(1 minute)",   # the fallback: overdue PKs, the outbox sweep
            # Invoked once per PK ({"pk_id"}, by costream): that invocation runs the PK's one-second clock
            # for the whole window (at most costream_rules.PK_MAX_SECONDS = 600 s) and its result.
            long_run=LongRun(reason="one invocation runs a PK's one-second clock for its whole window (<= 600 s)",
                             max_seconds=900),
            timeout_seconds=900,
        ),
    ),
    emits=("ReplayReady", "CostreamRequested", "CostreamInvited", "CostreamJoined", "CostreamLeft", "CostreamGuestMuted",
           "CostreamLayoutChanged", "PkStarted", "PkScore", "PkEnded"),
    router="livecommerce.media.router",
    state_machines=(REPLAY,),
)

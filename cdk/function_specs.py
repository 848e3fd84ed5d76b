"""What each Lambda function may touch: the source of its IAM grants and of the
table environment variables it gets. Least privilege by default: a function
gets nothing that is not listed here.

The function name is its folder under functions/ (and the name routes and
subscriptions use).
"""
from __future__ import annotations

from dataclasses import dataclass

from livecommerce.shared import tables
from livecommerce.shared.tables import TableSpec


@dataclass(frozen=True)
class FunctionSpec:
    name: str
    description: str
    tables_read: tuple[TableSpec, ...] = ()
    tables_write: tuple[TableSpec, ...] = ()   # write implies read
    reads_token_secret: bool = False
    reads_providers_secret: bool = False
    puts_events: bool = False
    # The playback key pair secret (the private key signs IVS playback tokens);
    # also sets PLAYBACK_KEY_SECRET_ID and PLAYBACK_DOMAIN.
    reads_playback_key: bool = False
    # Non-empty: kms:Encrypt and kms:Decrypt with the PII key, called directly (not
    # through a service), allowed only with exactly these encryption context keys.
    # Also sets PII_KEY_ID.
    pii_encryption_context: tuple[str, ...] = ()
    # Read, write (presigned POST/GET) and list objects of the materials bucket,
    # under this key prefix only (ends with "/").
    materials_prefix: str | None = None
    # IVS control-plane actions the function calls ("CreateChannel", ...), on the
    # channels and stream keys of the account and region. Also sets
    # AWS_RETRY_MODE=standard: IVS allows 5 requests per second for most of them.
    ivs_actions: tuple[str, ...] = ()
    # The stage's recording settings: RECORDING_CONFIGURATION_ARN and
    # RECONNECT_WINDOW_SECONDS (functions that provision channels or follow
    # the room lifecycle).
    media_settings: bool = False
    # Invoked on a schedule (an EventBridge rule), e.g. "rate(1 minute)".
    schedule: str | None = None
    memory_mb: int = 512
    timeout_seconds: int = 10

    def __post_init__(self) -> None:
        if self.materials_prefix is not None and not (self.materials_prefix.endswith("/")
                                                      and self.materials_prefix.strip("/")):
            raise ValueError(f"{self.name}: materials_prefix must be a non-empty prefix ending in '/'")
        if any(action.startswith("ivs:") or "*" in action for action in self.ivs_actions):
            raise ValueError(f"{self.name}: ivs_actions are bare action names, without 'ivs:' or wildcards")

    @property
    def tables(self) -> tuple[TableSpec, ...]:
        """Every table the function uses (read or write), without repeats."""
        seen: dict[str, TableSpec] = {}
        for spec in (*self.tables_write, *self.tables_read):
            seen.setdefault(spec.logical_id, spec)
        return tuple(seen.values())


FUNCTION_SPECS: tuple[FunctionSpec, ...] = (
    FunctionSpec(
        name="authorizer",
        description="API Gateway REQUEST authorizer: verifies login tokens",
        reads_token_secret=True,
        memory_mb=256,
        timeout_seconds=5,
    ),
    FunctionSpec(
        name="identity",
        description="Login, profile, hosts and follows",
        tables_write=(tables.IDENTITY,),
        reads_token_secret=True,
        reads_providers_secret=True,
        puts_events=True,
        # The WeChat/Alipay code exchange is an outbound HTTPS call with its own timeout.
        timeout_seconds=15,
    ),
    FunctionSpec(
        name="docs",
        description="OpenAPI document and Swagger UI",
        memory_mb=256,
    ),
    FunctionSpec(
        name="domain_events",
        description="Keeps every domain event in the event log",
        tables_write=(tables.EVENT_LOG,),
        memory_mb=256,
    ),
    FunctionSpec(
        name="rooms",
        description="Rooms: announcements, reservations, ingest, playback, lifecycle, materials",
        tables_write=(tables.ROOMS,),
        tables_read=(tables.IDENTITY,),          # host profiles (get_host)
        reads_token_secret=True,                 # optional_caller verifies tokens on public routes
        reads_playback_key=True,                 # signs ES384 playback tokens
        puts_events=True,                        # the rooms outbox
        pii_encryption_context=("room_id", "viewer_id"),   # reservation phone numbers
        materials_prefix="rooms/",               # rooms/<room_id>/materials/<id>
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
        tables_write=(tables.ROOMS,),
        puts_events=True,
        media_settings=True,
        memory_mb=256,
    ),
    FunctionSpec(
        name="outbox_sweeper",
        description="Every minute: publishes domain events a crash left in the rooms outbox",
        # Queries the pending-outbox index (gsi1), publishes, deletes the outbox items.
        tables_write=(tables.ROOMS,),
        puts_events=True,
        schedule="rate(1 minute)",
        memory_mb=256,
        timeout_seconds=50,   # finishes before the next tick
    ),
)

BY_NAME: dict[str, FunctionSpec] = {spec.name: spec for spec in FUNCTION_SPECS}

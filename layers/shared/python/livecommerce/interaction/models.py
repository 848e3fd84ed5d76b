"""Interaction API shapes."""
from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from livecommerce.shared.fields import (TEXT_NOTE, TRIMMED_TEXT_PATTERN, Integer, Quantity, Text, integer,
                                        quantity, schema_pattern, text)

ULID_PATTERN = r"^[0-9A-HJKMNP-TV-Z]{26}$"


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DanmakuRequest(Strict):
    # Trimmed, then checked (interaction.moderation.clean_text): the pattern lets whitespace stand at the ends.
    text: Annotated[str, schema_pattern(TRIMMED_TEXT_PATTERN)] = Field(
        min_length=1, max_length=200,
        description="1 to 60 characters after trimming (the deployment's limit; more is 422 `validation_failed` on "
                    "`body.text`, as is a whitespace-only text or a blocked word); emoji welcome. " + TEXT_NOTE
                    + " A room's quick phrase (e.g. 想要) is sent as its text.")
    reply_to: str | None = Field(default=None, pattern=ULID_PATTERN,
                                 description="Hosts only: the id of a viewer's message this answers (@-reply).")


class ReplyRef(BaseModel):
    id: str
    user_id: str
    nickname: str | None = None
    text: str


class Danmaku(BaseModel):
    id: str
    room_id: str
    user_id: str
    nickname: str | None = None
    text: str
    kind: Literal["text", "phrase"]
    host: bool = Field(description="Sent by the room's host (or an operator): always delivered.")
    reply_to: ReplyRef | None = None
    created_at: str


class LikesRequest(Strict):
    count: Quantity = quantity("Taps since the last call (the client batches them); at most 200, or the "
                               "deployment's lower limit (422 `validation_failed` on `body.count` above it).",
                               ge=1, le=200)


class LikesAccepted(BaseModel):
    room_id: str
    accepted: int = Field(description="Likes counted; fewer than sent when the per-user cap was reached.")
    capped: bool


class Topic(BaseModel):
    topic: str
    qos: int


class RealtimeCredentials(BaseModel):
    scheme: Literal["mqtt-username-password"] = "mqtt-username-password"
    username: str = Field(description="MQTT CONNECT username (carries the room and, on AWS, the authorizer name).")
    password: str = Field(description="MQTT CONNECT password: your login token.")
    authorizer: str | None = Field(default=None, description="IoT Core custom authorizer name (AWS only).")


class Density(BaseModel):
    max_batches_per_second: float
    max_messages_per_batch: int
    like_broadcasts_per_second: float


class Realtime(BaseModel):
    endpoint: str = Field(description="MQTT over WebSocket URL (wss on AWS).")
    protocol: Literal["mqtt-3.1.1"] = "mqtt-3.1.1"
    client_id: str = Field(description="Use exactly this client id; ask again for another device.")
    credentials: RealtimeCredentials
    topics: dict[str, str] = Field(description="danmaku, events and private topic names, and `state`: the filter "
                                               "(state/+) whose retained messages say what is running now "
                                               "(card, flash_sale, lottery, poll, quiz, likes) the moment you "
                                               "subscribe; an empty payload on state/<kind> means it ended.")
    subscribe: list[Topic]
    keepalive_seconds: int
    expires_at: int = Field(description="Epoch seconds: the connection closes when the token expires.")
    density: Density
    quick_phrases: list[str]
    likes_total: int
    status: str
    delivery: str = Field("push", description="`push`: crowd danmaku on the danmaku topic; `poll`: read "
                                              "GET /v1/rooms/{room_id}/feed every `poll_interval_ms` (a `delivery` message on "
                                              "the events topic switches connected clients).")
    poll_interval_ms: int = Field(1000, description="In poll mode, read the feed this often (milliseconds): "
                                                    "longer in large rooms; a `delivery` message on the events "
                                                    "topic and every feed answer carry the current value.")
    feed_seq: int = Field(0, description="The room's latest feed page now (0: none). A client that polls "
                                         "(now or after a `delivery` switch) asks GET /v1/rooms/{room_id}/feed with "
                                         "`seq` from here, so it gets only pages written after it joined.")


DELIVERY_NOTE = ("How the crowd's danmaku reach viewers: `push` (MQTT batches), `poll` (numbered pages read from "
                 "the edge, GET /v1/rooms/{room_id}/feed; connected clients are told by a `delivery` message on "
                 "the events topic); null: by audience size (DANMAKU_POLL_ABOVE_VIEWERS).")


class DanmakuSettings(BaseModel):
    quick_phrases: list[str]
    blocked_words: list[str] = Field(description="The room's own list, on top of the platform list.")
    delivery: Literal["push", "poll"] | None = Field(None, description=DELIVERY_NOTE)
    updated_at: str | None = None


# interaction.moderation.clean_list: at most MAX_PHRASE_CHARS / MAX_BLOCKED_WORD_CHARS (20) after trimming.
Phrase = Annotated[Text, StringConstraints(min_length=1, max_length=20)]
PHRASE_NOTE = ("Each 1 to 20 characters after trimming, with a letter, digit or emoji (422 `validation_failed` "
               "otherwise). " + TEXT_NOTE)


class DanmakuSettingsRequest(Strict):
    quick_phrases: list[Phrase] | None = Field(default=None, max_length=12, description=PHRASE_NOTE)
    blocked_words: list[Phrase] | None = Field(default=None, max_length=200, description=PHRASE_NOTE)
    delivery: Literal["push", "poll"] | None = Field(default=None, description=DELIVERY_NOTE)


class MuteRequest(Strict):
    duration_seconds: Integer = integer("How long the mute lasts, in seconds.", default=600, ge=60, le=7 * 24 * 3600)


class BanRequest(Strict):
    reason: Text | None = text("Why (kept with the ban).", default=None, max_length=200)


class Moderation(BaseModel):
    room_id: str
    user_id: str
    muted_until: str | None = None
    banned: bool


class ModeratedUser(BaseModel):
    """A viewer muted now (until a time) or banned in the room."""

    user_id: str
    muted_until: str | None = Field(default=None, description="While muted: when the mute ends (UTC).")
    banned: bool
    reason: str | None = Field(default=None, description="The ban's reason, when one was given.")
    updated_by: str | None = Field(default=None, description="Who set the last mute or ban.")
    updated_at: str | None = None


class ModerationPage(BaseModel):
    """The room's muted and banned viewers, a page. A page may hold fewer than `limit` (even none)
    while `cursor` is set: each request reads a bounded part of the room's records."""

    items: list[ModeratedUser]
    cursor: str | None = None


# -- the room-entry snapshot (GET /v1/rooms/{room_id}/snapshot, cached at the edge) ------------

class SnapshotRoom(BaseModel):
    id: str
    title: str | None = None
    status: str
    scheduled_start: str


class SnapshotHost(BaseModel):
    id: str
    nickname: str | None = None
    avatar: str | None = None


class SnapshotCard(BaseModel):
    product_id: str
    name: str
    image: str | None = None
    live_price: int
    list_price: int
    stock_left: int
    promotion_note: str | None = None
    state: str


class RoomSnapshot(BaseModel):
    """What a viewer loads on entering a live room, the same for every viewer (nothing per viewer:
    their coupons and orders are separate calls). Served through CloudFront with a 1 s TTL and
    stale-while-revalidate, so the origin sees at most about one request per TTL per edge."""
    room: SnapshotRoom
    host: SnapshotHost
    cards: list[SnapshotCard] = Field(description="Listed products with units left.")
    card_on_show: dict[str, Any] | None = Field(None, description="The card the host shows now (room state).")
    flash_sale: dict[str, Any] | None = Field(
        None, description="The flash sale on show: phase (scheduled, running, sold_out), stock, starts_at and "
                          "ends_at (count down against server_time).")
    lottery: dict[str, Any] | None = None
    coupons: list[dict[str, Any]] = Field(default_factory=list, description="Coupon drops on offer in the room.")
    likes_total: int
    server_time: str


class FeedPage(BaseModel):
    seq: int
    at: int = Field(description="The batch's slot (epoch ms).")
    items: list[dict[str, Any]]
    dropped: int


class RoomFeed(BaseModel):
    """A room's danmaku batches after `seq`, in order, each once (poll mode). Ask again with
    `seq=next_seq` after `poll_interval_ms` (1 s, 2 s in large rooms); the answer is cached at the
    edge for 1 s."""
    room_id: str
    delivery: str
    pages: list[FeedPage]
    next_seq: int
    missed: int = Field(description="Pages after `seq` that are no longer kept (a client far behind).")
    likes_total: int
    poll_interval_ms: int

"""Rooms API shapes."""
from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from livecommerce.rooms import rules
from livecommerce.shared.fields import TEXT_NOTE, FileName, HttpsUrl, Integer, Text, file_name, integer, text

Visibility = Literal["public", "test"]
Status = Literal["scheduled", "live", "interrupted", "ended"]
Highlight = Annotated[Text, StringConstraints(min_length=1, max_length=60)]


class Strict(BaseModel):
    """Request bodies: no unknown fields; text is taken as sent (shared.fields), never stripped."""
    model_config = ConfigDict(extra="forbid")


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("give a time zone, e.g. 2026-12-01T12:00:00Z")
    return value


class CreateRoomRequest(Strict):
    title: Text = text("Room title.", min_length=1, max_length=60)
    topic: Text | None = text("What the session is about.", default=None, max_length=200)
    highlights: list[Highlight] = Field(default_factory=list, max_length=10,
                                        description="Selling points shown on the announcement, each 1 to 60 "
                                                    "characters. " + TEXT_NOTE)
    host_id: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_-]{1,64}$",
                                description="Operators create rooms for a host; hosts leave it out.")
    host_intro: Text | None = text("The host as this session introduces them.", default=None, max_length=500)
    scheduled_start: datetime = Field(description=rules.START_RULE)
    cover: HttpsUrl | None = Field(default=None, description="https URL of the cover image.")
    visibility: Visibility = Field(default="public", description="`test`: a private rehearsal only the host can watch.")

    _tz = field_validator("scheduled_start")(_aware)


class UpdateRoomRequest(Strict):
    """Only the fields sent change; at least one (an empty body is 400 `empty_update`). Title, start
    and visibility may be left out but not cleared: they are not nullable."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"minProperties": 1})

    # Not nullable (rules.NOT_NULL_ON_EDIT): the default None only means "not sent" (exclude_unset).
    title: Text = text("Room title.", default=None, min_length=1, max_length=60)
    topic: Text | None = text("What the session is about.", default=None, max_length=200)
    highlights: list[Highlight] | None = Field(default=None, max_length=10,
                                               description="Each 1 to 60 characters. " + TEXT_NOTE)
    host_intro: Text | None = text("The host as this session introduces them.", default=None, max_length=500)
    scheduled_start: datetime = Field(default=None, description=rules.START_RULE)
    cover: HttpsUrl | None = Field(default=None, description="https URL of the cover image.")
    visibility: Visibility = Field(default=None, description="`test`: a private rehearsal only the host can watch.")

    _tz = field_validator("scheduled_start")(_aware)


class Room(BaseModel):
    id: str
    host_id: str
    title: str
    topic: str | None = None
    highlights: list[str]
    host_intro: str | None = None
    cover: str | None = None
    visibility: Visibility
    scheduled_start: str
    status: Status
    reservation_count: int
    started_at: str | None = None
    interrupted_at: str | None = None
    ended_at: str | None = None
    created_at: str
    updated_at: str


class RoomPage(BaseModel):
    items: list[Room]
    cursor: str | None = Field(default=None, description="Pass back to get the next page; absent on the last page.")


class HostCard(BaseModel):
    id: str
    display_name: str
    avatar: str | None = None
    intro: str | None = None
    follower_count: int


class PastSession(BaseModel):
    room_id: str
    title: str
    ended_at: str | None = None
    replay: str = Field(description="Path of the replay resource for this session.")


class Announcement(BaseModel):
    room: Room
    host: HostCard | None
    reservation_count: int
    reserved_by_me: bool | None = Field(default=None, description="Present when the caller sent a token.")
    hot_products: list[dict] = Field(default_factory=list,
                                     description="The room's top product cards: name, image, live price.")
    past_sessions: list[PastSession]


class ReservationRequest(Strict):
    """At least one reminder channel; an SMS reminder needs `phone` (rules.check_reservation_channels,
    422 naming the field). The schema says both."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"allOf": [
        {"anyOf": [{"properties": {"sms": {"const": False}}},
                   {"required": ["phone"], "properties": {"phone": {"type": "string"}}}]},
        {"anyOf": [{"properties": {"subscribe_message": {"const": True}}},
                   {"required": ["sms"], "properties": {"sms": {"const": True}}}]},
    ]})

    subscribe_message: bool = Field(default=True, description="Consent to a mini-program subscribe message.")
    sms: bool = Field(default=False, description="Consent to an SMS reminder; needs `phone`. With "
                                                 "`subscribe_message` false, `sms` must be true.")
    phone: str | None = Field(default=None, pattern=r"^1[3-9]\d{9}$", description="Mainland China mobile number.")


class Reservation(BaseModel):
    room_id: str
    viewer_id: str
    subscribe_message: bool
    sms: bool
    phone: str | None = Field(default=None, description="Masked, e.g. 138****5678.")
    scheduled_start: str
    created_at: str
    reservation_count: int | None = None


class ReservationPage(BaseModel):
    items: list[Reservation]
    cursor: str | None = None


class Ingest(BaseModel):
    server: str = Field(description="RTMPS server URL for OBS (Settings > Stream > Server).")
    stream_key: str
    channel_arn: str


class Playback(BaseModel):
    playback_url: str = Field(description="HLS URL with the token attached (SD/HD/UHD adaptive).")
    token: str
    expires_at: str
    status: Status


class MaterialRequest(Strict):
    filename: FileName = file_name("The file's name as the host's machine has it.", max_length=200)
    content_type: Text = text("MIME type of the file (see the 422 for the accepted list).", max_length=120)
    size_bytes: Integer = integer("Size of the file in bytes (the upload may not exceed it).", gt=0,
                                  le=500 * 1024 * 1024)


class Material(BaseModel):
    id: str
    kind: Literal["script", "image", "video", "slides"]
    filename: str
    content_type: str
    size_bytes: int
    created_at: str
    download_url: str | None = None


class MaterialUpload(BaseModel):
    material: Material
    upload_url: str
    upload_fields: dict[str, str] = Field(description="Form fields to POST with the file (S3 presigned POST).")
    expires_at: str


class MaterialList(BaseModel):
    items: list[Material]


class CoverUploadRequest(Strict):
    content_type: Literal["image/jpeg", "image/png", "image/webp"] = Field(
        description="The image's type; S3 accepts the upload only with this Content-Type.")
    size_bytes: Integer = integer("Size of the file in bytes, at most 5 MB (the upload may not exceed it).",
                                  gt=0, le=5 * 1024 * 1024)


class CoverUpload(BaseModel):
    upload_id: str = Field(description="Pass to `PUT /v1/rooms/{room_id}/cover` once the upload finished.")
    upload_url: str
    upload_fields: dict[str, str] = Field(description="Form fields to POST with the file (S3 presigned POST); "
                                                      "the file goes last, as the `file` field.")
    max_bytes: int
    expires_at: str


class SetCoverRequest(Strict):
    upload_id: str = Field(pattern=r"^[0-9A-HJKMNP-TV-Z]{26}$", description="From `POST .../cover-uploads`.")


class RoomRef(BaseModel):
    """What other contexts know of a room (the rooms public face returns this, never the table item)."""

    model_config = ConfigDict(frozen=True)

    room_id: str
    host_id: str
    status: Status
    visibility: Visibility
    scheduled_start: str
    channel_arn: str | None = None
    ended_at: str | None = None          # when it ended (ISO 8601), once it has

    def run_by(self, user_id: str | None, roles: frozenset[str] | set[str] | tuple[str, ...] = ()) -> bool:
        """Operators run every room; a host runs their own (rooms.rules.can_run)."""
        return rules.can_run(user_id, roles, self.host_id)

    def visible_to(self, user_id: str | None, roles: frozenset[str] | set[str] | tuple[str, ...] = ()) -> bool:
        """A test room does not exist for anyone but the people who run it (rooms.rules.visible)."""
        return rules.visible(user_id, roles, self.host_id, self.visibility)


class ReservationRef(BaseModel):
    """A reservation as other contexts see it (the reminder workflow): consent, never the phone."""

    model_config = ConfigDict(frozen=True)

    room_id: str
    viewer_id: str
    scheduled_start: str
    subscribe_message: bool
    sms: bool
    has_phone: bool

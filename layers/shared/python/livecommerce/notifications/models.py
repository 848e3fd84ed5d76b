"""API shapes of notifications."""
from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field


class NotificationSettingsRequest(BaseModel):
    """What the viewer lets us send. `false` unsubscribes from that channel for every notice,
    reminders included, whatever a reservation consented to."""

    model_config = ConfigDict(extra="forbid")

    subscribe_message: bool = Field(description="Mini-program subscribe / template messages.")
    sms: bool = Field(description="SMS.")


class NotificationSettings(BaseModel):
    subscribe_message: bool
    sms: bool
    updated_at: str | None = Field(default=None, description="When the viewer last changed them.")


# ------------------------------------------------------------ post-live notices

_KIND_PATTERN = "^(non_buyer|order_summary|shipped|delivered|new_room_preview)$"


class ConsentGrantsRequest(BaseModel):
    """What wx.requestSubscribeMessage answered: each accepted template allows ONE message of its
    notice kind (a kind may be listed several times: one consent each); a rejected one withdraws
    the consents left."""

    model_config = ConfigDict(extra="forbid")

    accepted: list[Annotated[str, Field(pattern=_KIND_PATTERN)]] = Field(default_factory=list, max_length=20)
    rejected: list[Annotated[str, Field(pattern=_KIND_PATTERN)]] = Field(default_factory=list, max_length=20)


class ConsentGrants(BaseModel):
    grants: dict[str, int] = Field(description="Notice kind -> one-time consents left.")


class RoomNoticeSettingsRequest(BaseModel):
    """The host's choice for the room's post-live notices: a coupon template issued to each
    high-intent non-buyer with the replay link (null: no coupon)."""

    model_config = ConfigDict(extra="forbid")

    coupon_template_id: str | None = Field(default=None, min_length=1, max_length=64, pattern=r"^[0-9A-Za-z_-]+$")


class RoomNoticeSettings(BaseModel):
    room_id: str
    coupon_template_id: str | None = None


class PreviewAudienceRequest(BaseModel):
    """Which of your followers get a preview when you announce a room: those who carried one of
    these tags (analytics tags: buyer, repeat_buyer, high_intent_non_buyer, coupon_user,
    first_time_viewer, lottery_only) in one of your earlier sessions; empty: every follower (also
    those who never watched one). An unknown tag is 422 `unknown_tag`."""

    model_config = ConfigDict(extra="forbid")

    tags: list[Annotated[str, Field(min_length=1, max_length=40, pattern=r"^[a-z_]+$")]] = Field(max_length=10)


class PreviewAudience(BaseModel):
    tags: list[str]
    updated_at: str | None = None


class NoticeRun(BaseModel):
    kind: str
    outcome: str = Field(description="running, completed or skipped")
    detail: str | None = Field(default=None, description="Why skipped; replay_missing when sent without the replay link.")
    replay_linked: bool | None = None
    coupon_template_id: str | None = None
    audience: int
    sent: int
    skipped_consent: int = Field(description="No consent for the kind, unsubscribed, or revoked at the provider.")
    skipped: int = Field(description="Other skips: frequency cap, no address, not a follower.")
    failed: int
    duplicate: int = Field(description="Recipients an earlier run of the same reason had settled.")
    runs: int
    started_at: str | None = None
    completed_at: str | None = None


class NoticeRuns(BaseModel):
    room_id: str
    runs: list[NoticeRun]

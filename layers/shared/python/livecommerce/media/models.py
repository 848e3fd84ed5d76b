"""Co-streaming and PK API shapes."""
from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from livecommerce.shared.fields import Integer, integer

Ulid = r"^[0-9A-HJKMNP-TV-Z]{26}$"


class InviteRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    user_id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$",
                         description="Who is invited: another host or a viewer (404 user_not_found).")


class LayoutRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    layout: Literal["grid", "pip", "off"] = Field(
        description="grid or pip (picture in picture): compose the stage into the room's channel "
                    "(StartComposition); off: stop composing, the host's own push goes on air again.")


class PkRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    other_room_id: str = Field(pattern=Ulid, description="The other host's live room (409 room_not_live).")
    rule: Literal["likes", "sales"] = Field(description="likes in the window, or paid sales (fen) in it.")
    duration_seconds: Integer = integer("How long the PK window lasts.", ge=30, le=600)


class StageToken(BaseModel):
    """An IVS real-time participant token: join the stage with the browser SDK (WebRTC), or push RTMPS
    to `rtmps_url` with `token` as the stream key (OBS). Short lived; one participant."""

    participant_id: str
    token: str
    capabilities: list[str]
    expires_at: str
    stage_arn: str
    rtmps_url: str | None = None
    whip_url: str | None = None


class Seat(BaseModel):
    request_id: str
    room_id: str
    kind: Literal["application", "invitation"]
    user_id: str
    display_name: str
    state: Literal["pending", "on_stage", "muted", "ended"]
    created_at: str
    reason: str | None = None


class SeatWithToken(BaseModel):
    seat: Seat
    token: StageToken | None = Field(default=None, description="The caller's own participant token.")
    host_token: StageToken | None = Field(default=None, description="On the host's accept: the host's token.")


class Pk(BaseModel):
    pk_id: str
    room_id: str
    other_room_id: str
    rule: Literal["likes", "sales"]
    state: Literal["running", "ended"]
    started_at: str
    ends_at: str
    score: int
    other_score: int
    outcome: str | None = None


class CostreamState(BaseModel):
    room_id: str
    layout: Literal["grid", "pip", "off"]
    composition: str
    on_stage: int
    publisher_limit: int
    seats: list[Seat]
    pk: Pk | None = None
    my_token: StageToken | None = Field(default=None, description="The caller's participant token when they "
                                        "host the room or hold an open seat (a new one each call).")

"""Request and response shapes of the replay routes."""
from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from livecommerce.shared.fields import Text, text


class ClipRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    start_seconds: float = Field(ge=0, le=86400, allow_inf_nan=False,
                                 description="Start on the recording's clock, seconds")
    end_seconds: float = Field(gt=0, le=86400, allow_inf_nan=False,
                               description="End on the recording's clock, seconds; inside the recording, after the "
                                           "start, 1 s to 30 min long (else 422 clip_outside_recording)")
    product_id: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_-]{1,64}$",
                                   description="The product the clip shows (a tag)")
    title: Text | None = text("Title of the clip", default=None, max_length=100)


class TimelineEntry(BaseModel):
    offset_seconds: float = Field(description="When, on the replay's clock")
    kind: str = Field(description="listing | flash_sale | coupon_drop | lottery")
    ref_id: str
    product_id: str | None = None
    title: str = ""
    price: int | None = Field(default=None, description="Fen: the live price or the flash-sale price")


class Rendition(BaseModel):
    path: str
    width: int | None = None
    height: int | None = None
    playlist_url: str


class Replay(BaseModel):
    room_id: str
    state: str
    playlist_url: str = Field(description="Multivariant HLS playlist of the recording on the replay distribution, "
                                          "as /t/<token>/<key>: every URL of this reply carries the same ES384 token "
                                          "(the recording's prefix, an expiry), which relative URIs inherit")
    playlist_expires_at: str | None = Field(default=None, description="When the URLs' token expires (a test room's "
                                            "replay: its length plus 15 min; a public one: a day); ask again after")
    duration_seconds: float
    recording_started_at: str
    recording_ended_at: str | None = None
    ready_at: str | None = None
    renditions: list[Rendition]
    thumbnails: list[str] = Field(description="Thumbnail URLs in recording order (IVS interval thumbnails)")
    timeline: list[TimelineEntry] = Field(description="Product cards and moments at their offsets")


class Clip(BaseModel):
    clip_id: str
    kind: str = Field(description="product (made with the replay) | host (cut by a host)")
    product_id: str | None = None
    title: str | None = None
    start_seconds: float
    end_seconds: float
    duration_seconds: float
    playlist_url: str
    created_at: str


class ClipList(BaseModel):
    items: list[Clip]

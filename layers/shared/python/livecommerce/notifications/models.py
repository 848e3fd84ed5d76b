"""API shapes of notifications."""
from __future__ import annotations

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

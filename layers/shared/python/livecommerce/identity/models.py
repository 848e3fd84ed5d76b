"""Identity API shapes (pydantic): what clients send and get back."""
from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from livecommerce.identity.rules import DEV_USER_ID
from livecommerce.shared.fields import HttpsUrl, Text, text

UserId = Field(pattern=r"^[A-Za-z0-9_-]{1,64}$", min_length=1, max_length=64)


class Strict(BaseModel):
    """Request bodies: no unknown fields; text is taken as sent (shared.fields), never stripped."""
    model_config = ConfigDict(extra="forbid")


class LoginRequest(Strict):
    """A `dev` login's code is a user id (identity.rules.DEV_USER_ID): the schema says so per provider."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"anyOf": [
        {"properties": {"provider": {"enum": ["wechat", "alipay"]}}},
        {"properties": {"code": {"pattern": DEV_USER_ID.pattern}}},
    ]})

    provider: Literal["wechat", "alipay", "dev"] = Field(
        description="`wechat` and `alipay` take the code from the mini-program's login call; "
                    "`dev` works on the local stage only and takes the user id as the code.")
    code: Text = text("Mini-program login code; for `dev`, the user id (letters, digits, - and _, at most 40; "
                      "422 `validation_failed` on `body.code` otherwise).", min_length=1, max_length=256)


class User(BaseModel):
    id: str
    roles: list[str]
    display_name: str | None = None
    avatar: str | None = None
    provider: str
    created_at: str


class LoginResponse(BaseModel):
    token: str
    token_type: Literal["Bearer"] = "Bearer"
    expires_at: str
    user: User
    new_user: bool


class Me(User):
    following_count: int


class CreateHostRequest(Strict):
    user_id: str = Field(pattern=r"^[A-Za-z0-9_-]{1,40}$", description="The user to make a host.")
    display_name: Text = text("Name shown on the host's profile and rooms.", min_length=1, max_length=40)
    intro: Text | None = text("One-paragraph introduction.", default=None, max_length=500)
    avatar: HttpsUrl | None = Field(default=None, description="https URL of the host's picture.")


class Host(BaseModel):
    id: str
    display_name: str
    intro: str | None = None
    avatar: str | None = None
    follower_count: int
    created_at: str


class FollowState(BaseModel):
    host_id: str
    following: bool
    changed: bool = Field(description="False when the call found the follow already in that state.")
    follower_count: int


AssistantCapability = Literal["moderate", "list_products", "drop_coupons", "run_lotteries", "run_polls"]


class AssistantRequest(Strict):
    capabilities: list[AssistantCapability] | None = Field(
        default=None, min_length=1, max_length=5,
        description="What the assistant may do; all five when omitted. Prices, stock and payouts are never "
                    "an assistant's: no capability grants them.")


class AssistantGrant(BaseModel):
    user_id: str
    host_id: str
    room_id: str | None = Field(description="The room; null for every room of the host.")
    capabilities: list[str]
    granted_by: str
    granted_at: str


class AssistantList(BaseModel):
    items: list[AssistantGrant]


class AssistantRemoved(BaseModel):
    user_id: str
    host_id: str
    room_id: str | None
    removed: bool = Field(description="False when there was no such grant.")

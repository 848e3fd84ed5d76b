"""Settings come from environment variables, read in one place.

CDK sets these on every function; the local stack sets the same names.

The stage is never assumed: STAGE must be set, to one of STAGES ("local" only on the
local stack and in tests, which set it themselves; CDK sets the deployed stage's name
on every function and refuses to deploy a stage named "local"). Everything that
depends on the stage reads `get_settings().stage`.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache

LOCAL_STAGE = "local"
DEPLOYED_STAGES = ("dev", "prod")
STAGES = (LOCAL_STAGE, *DEPLOYED_STAGES)


class StageError(RuntimeError):
    """STAGE is missing or not a known stage: nothing runs on an assumed stage."""


@dataclass(frozen=True)
class Settings:
    stage: str
    region: str
    identity_table: str
    idempotency_table: str
    event_log_table: str
    event_bus_name: str
    token_secret_id: str
    cursor_secret_id: str
    providers_secret_id: str
    wechat_api_base: str
    alipay_gateway: str
    token_ttl_seconds: int
    token_issuer: str
    rooms_table: str
    materials_bucket: str
    pii_key_id: str
    recording_configuration_arn: str | None
    playback_key_secret_id: str
    playback_domain: str | None
    reconnect_window_seconds: int
    # Public rooms' uploaded covers are copied to this bucket (S3-managed keys) under covers/ and served
    # by the web distribution's /covers/* behaviour at <public_covers_base_url>/covers/... (rooms.public_covers).
    # Either unset: every uploaded cover is a presigned link to the private materials bucket.
    public_covers_bucket: str | None = None
    public_covers_base_url: str | None = None

    @property
    def is_local(self) -> bool:
        return self.stage == LOCAL_STAGE


def _env(name: str, default: str | None = None) -> str:
    value = os.environ.get(name, default)
    if value is None:
        raise RuntimeError(f"missing setting {name}")
    return value


def _stage() -> str:
    value = os.environ.get("STAGE")
    if not value:
        raise StageError(f"STAGE is not set; it must be one of {', '.join(STAGES)} "
                          "(CDK sets it on every function, the local stack and the tests set it to local)")
    if value not in STAGES:
        raise StageError(f"STAGE={value!r} is not a stage; known: {', '.join(STAGES)}")
    return value


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings(
        stage=_stage(),
        region=_env("AWS_REGION", os.environ.get("AWS_DEFAULT_REGION", "ap-northeast-1")),
        identity_table=_env("IDENTITY_TABLE", "livecommerce-local-identity"),
        idempotency_table=_env("IDEMPOTENCY_TABLE", "livecommerce-local-idempotency"),
        event_log_table=_env("EVENT_LOG_TABLE", "livecommerce-local-eventlog"),
        event_bus_name=_env("EVENT_BUS_NAME", "livecommerce-local-bus"),
        token_secret_id=_env("TOKEN_SECRET_ID", "livecommerce-local/token-signing-key"),
        cursor_secret_id=_env("CURSOR_SECRET_ID", "livecommerce-local/cursor-signing-key"),
        providers_secret_id=_env("PROVIDERS_SECRET_ID", "livecommerce-local/login-providers"),
        wechat_api_base=_env("WECHAT_API_BASE", "https://api.weixin.qq.com"),
        alipay_gateway=_env("ALIPAY_GATEWAY", "https://openapi.alipay.com/gateway.do"),
        token_ttl_seconds=int(_env("TOKEN_TTL_SECONDS", "7200")),
        token_issuer=_env("TOKEN_ISSUER", "livecommerce"),
        rooms_table=_env("ROOMS_TABLE", "livecommerce-local-rooms"),
        materials_bucket=_env("MATERIALS_BUCKET", "livecommerce-local-materials"),
        pii_key_id=_env("PII_KEY_ID", "alias/livecommerce-local-pii"),
        recording_configuration_arn=os.environ.get("RECORDING_CONFIGURATION_ARN") or None,
        playback_key_secret_id=_env("PLAYBACK_KEY_SECRET_ID", "livecommerce-local/playback-key"),
        playback_domain=os.environ.get("PLAYBACK_DOMAIN") or None,
        reconnect_window_seconds=int(_env("RECONNECT_WINDOW_SECONDS", "60")),
        public_covers_bucket=os.environ.get("PUBLIC_COVERS_BUCKET") or None,
        public_covers_base_url=(os.environ.get("PUBLIC_COVERS_BASE_URL") or "").rstrip("/") or None,
    )


def reset_settings() -> None:
    """Tests change the environment between cases."""
    get_settings.cache_clear()

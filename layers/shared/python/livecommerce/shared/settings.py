"""Settings come from environment variables, read in one place.

CDK sets these on every function; the local stack sets the same names.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache


@dataclass(frozen=True)
class Settings:
    stage: str
    region: str
    identity_table: str
    idempotency_table: str
    event_log_table: str
    event_bus_name: str
    token_secret_id: str
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

    @property
    def is_local(self) -> bool:
        return self.stage == "local"


def _env(name: str, default: str | None = None) -> str:
    value = os.environ.get(name, default)
    if value is None:
        raise RuntimeError(f"missing setting {name}")
    return value


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings(
        stage=_env("STAGE", "local"),
        region=_env("AWS_REGION", os.environ.get("AWS_DEFAULT_REGION", "ap-northeast-1")),
        identity_table=_env("IDENTITY_TABLE", "livecommerce-local-identity"),
        idempotency_table=_env("IDEMPOTENCY_TABLE", "livecommerce-local-idempotency"),
        event_log_table=_env("EVENT_LOG_TABLE", "livecommerce-local-eventlog"),
        event_bus_name=_env("EVENT_BUS_NAME", "livecommerce-local-bus"),
        token_secret_id=_env("TOKEN_SECRET_ID", "livecommerce-local/token-signing-key"),
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
    )


def reset_settings() -> None:
    """Tests change the environment between cases."""
    get_settings.cache_clear()

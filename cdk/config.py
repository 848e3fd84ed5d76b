"""Stage configuration: the only thing that differs between dev and prod.

Add a stage by adding a StageConfig to STAGES; everything else derives from it.
"""
from __future__ import annotations

import os
from dataclasses import dataclass

from aws_cdk import Duration, Environment, RemovalPolicy
from aws_cdk import aws_logs as logs

PROJECT = "livecommerce"
STACK_PREFIX = "LiveCommerce"


@dataclass(frozen=True)
class StageConfig:
    name: str
    removal_policy: RemovalPolicy
    log_retention: logs.RetentionDays
    # API Gateway stage throttling (steady requests/second and burst), for the whole stage.
    api_throttle_rate: int
    api_throttle_burst: int
    # WAF rate-based rule: requests per client IP per 5-minute window before blocking.
    waf_rate_limit_per_5min: int
    # Browser origins allowed by CORS (API and presigned uploads to the materials bucket).
    # Mini-programs are not browsers and do not need CORS; the web consoles do.
    cors_allowed_origins: tuple[str, ...]
    token_ttl_seconds: int
    # API Gateway execution log level ("INFO" or "ERROR"); request/response bodies are never logged.
    api_execution_log_level: str = "ERROR"
    # Days a superseded object version is kept in the data buckets.
    noncurrent_version_days: int = 30
    # Days an export file is kept (exports can be generated again).
    export_expiry_days: int = 30
    # Days S3 server access logs are kept.
    access_log_expiry_days: int = 90
    event_archive_retention_days: int = 30
    # EventBridge -> Lambda delivery: attempts and maximum event age before the DLQ.
    event_retry_attempts: int = 8
    event_max_age_hours: int = 6
    # AWS::ApiGateway::Account (the CloudWatch role for API Gateway logging) is one
    # setting per account and region. Leave on unless another stack in the account
    # manages it.
    manage_apigateway_account_role: bool = True

    @property
    def prefix(self) -> str:
        """Prefix of every physical resource name: livecommerce-<stage>."""
        return f"{PROJECT}-{self.name}"

    @property
    def is_prod(self) -> bool:
        return self.name == "prod"

    @property
    def retain_data(self) -> bool:
        return self.removal_policy == RemovalPolicy.RETAIN

    def stack_name(self, part: str) -> str:
        return f"{STACK_PREFIX}-{self.name}-{part}"

    @property
    def token_ttl(self) -> Duration:
        return Duration.seconds(self.token_ttl_seconds)


STAGES: dict[str, StageConfig] = {
    "dev": StageConfig(
        name="dev",
        removal_policy=RemovalPolicy.DESTROY,
        log_retention=logs.RetentionDays.TWO_WEEKS,
        api_throttle_rate=50,
        api_throttle_burst=100,
        waf_rate_limit_per_5min=1000,
        cors_allowed_origins=("http://localhost:5173", "http://127.0.0.1:5173"),
        token_ttl_seconds=2 * 3600,
        api_execution_log_level="INFO",
        noncurrent_version_days=7,
        export_expiry_days=7,
        access_log_expiry_days=30,
        event_archive_retention_days=7,
    ),
    "prod": StageConfig(
        name="prod",
        removal_policy=RemovalPolicy.RETAIN,
        log_retention=logs.RetentionDays.THREE_MONTHS,
        api_throttle_rate=2000,
        api_throttle_burst=5000,
        # A live room can have many viewers behind one carrier NAT address.
        waf_rate_limit_per_5min=6000,
        cors_allowed_origins=("https://console.livecommerce.example.com",),
        token_ttl_seconds=2 * 3600,
        api_execution_log_level="ERROR",
        noncurrent_version_days=90,
        export_expiry_days=30,
        access_log_expiry_days=365,
        event_archive_retention_days=90,
    ),
}


def stages_for(selected: str | None) -> list[StageConfig]:
    """The stages to build for the `stage` context value (absent or empty: all)."""
    if not selected:
        return list(STAGES.values())
    try:
        return [STAGES[selected]]
    except KeyError:
        raise SystemExit(f"unknown stage {selected!r}; known: {', '.join(STAGES)}") from None


def environment() -> Environment | None:
    """The account and region the CDK CLI found (credentials and a region
    configured), else None: environment-agnostic stacks, so synth needs no AWS
    account. (Without credentials the CLI still sets CDK_DEFAULT_REGION, to
    us-east-1; a region alone would bake that into every ARN, so it is ignored.)"""
    account = os.environ.get("CDK_DEFAULT_ACCOUNT")
    region = os.environ.get("CDK_DEFAULT_REGION")
    if account and region:
        return Environment(account=account, region=region)
    return None

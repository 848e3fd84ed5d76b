"""Stage configuration: the only thing that differs between dev and prod.

Add a stage by adding a StageConfig to STAGES; everything else derives from it.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from typing import Mapping

from aws_cdk import Duration, Environment, RemovalPolicy
from aws_cdk import aws_logs as logs

from livecommerce.notifications import CHANNELS as NOTICE_CHANNELS
from livecommerce.notifications import KINDS as NOTICE_KINDS
from livecommerce.notifications import template_env_var
from livecommerce.shared.settings import DEPLOYED_STAGES, LOCAL_STAGE

PROJECT = "livecommerce"
STACK_PREFIX = "LiveCommerce"
_IVS_PLAYBACK_HOST = re.compile(r"^[a-z0-9]+\.[a-z0-9-]+\.playback\.live-video\.net$")
_CLOUDFRONT_CERTIFICATE = re.compile(r"^arn:aws[a-z-]*:acm:us-east-1:\d{12}:certificate/[0-9a-f-]+$")
# The public base URL of the API: https, a host, optionally a path (a stage path such as
# /dev on an execute-api URL), no trailing slash, no query.
_API_PUBLIC_BASE = re.compile(r"^https://[A-Za-z0-9.-]+(:\d+)?(/[A-Za-z0-9._~-]+)*$")
# A WeChat subscribe-message or Alipay template-message template id as their consoles give it.
_NOTICE_TEMPLATE_ID = re.compile(r"^[A-Za-z0-9_-]{1,128}$")


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

    # Media (IVS) ---------------------------------------------------------------
    # After a stream drops, IVS keeps appending to the same recording for this
    # long if the host reconnects (0-300 s); the room is "interrupted" meanwhile.
    recording_reconnect_window_seconds: int = 60
    # A thumbnail every N seconds of each recording (covers, replay scrubbing).
    recording_thumbnail_interval_seconds: int = 10
    # Days before recordings move to S3 Intelligent-Tiering (replays are watched
    # mostly in the first weeks), and days they are kept (None: kept).
    recording_tiering_days: int = 30
    recording_expiry_days: int | None = None
    # The IVS playback host of the account and region, the host of every channel's
    # playbackUrl (GetChannel), e.g. "a1b2c3d4e5f6.ap-northeast-1.playback.live-video.net".
    # Set: a CloudFront distribution serves playback from it. Empty: no distribution.
    playback_origin_domain: str = ""
    # Serve playback through the CloudFront distribution. Its origin is playback_origin_domain when
    # set, else derived at deploy from the playbackUrl of a reserved, never-streamed channel of the
    # stage (media stack: every channel of the account and region has the same playback host), so no
    # placeholder host has to be written here. GET /playback then hands out the distribution's
    # domain (playback_domain when set, else its *.cloudfront.net name).
    playback_distribution: bool = False
    # The operator's own (filed) playback domain, e.g. "live.example.com": an alternate
    # name of the distribution (needs playback_certificate_arn, an ACM certificate in
    # us-east-1) and PLAYBACK_DOMAIN for the functions. Empty: IVS URLs are handed out
    # unchanged. Set it only after checking playback through the distribution (see
    # livecommerce.media.playback.custom_domain_playback_url for the assumptions).
    playback_domain: str = ""
    playback_certificate_arn: str = ""

    # Commerce ------------------------------------------------------------------
    # The public HTTPS base of this stage's API as the payment providers reach it,
    # without the /v1 the routes start with: the payments function sends
    # <api_public_base>/v1/payments/{wechat,alipay}/notify as the notify URL.
    # A custom domain mapped to the stage ("https://api.example.com") or the
    # execute-api URL with its stage path ("https://<id>.execute-api.<region>.amazonaws.com/dev").
    # Not taken from the RestApi itself: the API stack cannot reference its own URL
    # in a function's environment (the deployment depends on the functions).
    # Empty: payments answer "payments not configured" (503).
    api_public_base: str = ""
    # How long an unpaid order holds its stock and coupon (ORDER_PAYMENT_WINDOW_SECONDS).
    order_payment_window_seconds: int = 15 * 60

    # Replays -------------------------------------------------------------------
    # The playback public key(s) (PEM, P-384 SubjectPublicKeyInfo) the replay edge function
    # (Lambda@Edge, us-east-1: cdk/stacks/replay_edge_stack.py) verifies replay tokens with. Lambda@Edge
    # has no environment variables, so they are bundled into the function at synth. Required: the
    # media stack's PlaybackPublicKeyPem output (the public half of the key pair generated at the
    # first deploy). Two during a key rotation (old and new). A new stage has no key yet: set
    # replay_keys_pending=True for its first deploy (the edge function then refuses every replay
    # request), copy the output here, set it back to False and deploy again (docs/replays.md).
    replay_public_keys: tuple[str, ...] = ()
    replay_keys_pending: bool = False

    # Notices ---------------------------------------------------------------------
    # The template id of every notice kind (livecommerce.notifications.KINDS) on each channel, as the
    # WeChat mini-program console (subscribe messages) and the Alipay open platform (template messages)
    # gave them: {"reminder_15min": "<id>", ...}. Passed as WECHAT_TEMPLATE_<KIND> / ALIPAY_TEMPLATE_<KIND>
    # to the functions that send notices (FunctionSpec.sends_notices). Required: without them a stage
    # would send with the local stand-ins' placeholder ids, which WeChat and Alipay refuse. A stage whose
    # templates are not applied for yet sets notice_templates_pending=True: it deploys, and the sending
    # functions refuse to run (livecommerce.notifications.require_template_ids) until the ids are set.
    wechat_notice_templates: Mapping[str, str] = field(default_factory=dict)
    alipay_notice_templates: Mapping[str, str] = field(default_factory=dict)
    notice_templates_pending: bool = False

    def __post_init__(self) -> None:
        if self.name not in DEPLOYED_STAGES:
            # Every function gets STAGE=<name> (cdk/stage.py); "local" there would open the dev
            # login on AWS, and the functions refuse any name they do not know.
            what = "is the local stack's, never a deployed one" if self.name == LOCAL_STAGE else "is not a stage"
            raise ValueError(f"stage {self.name!r} {what}; deployed stages: {', '.join(DEPLOYED_STAGES)} "
                             "(livecommerce.shared.settings.DEPLOYED_STAGES)")
        problems = []
        if self.playback_origin_domain and not _IVS_PLAYBACK_HOST.match(self.playback_origin_domain):
            problems.append(f"playback_origin_domain {self.playback_origin_domain!r} is not an IVS playback host "
                            "(<id>.<region>.playback.live-video.net)")
        if bool(self.playback_domain) != bool(self.playback_certificate_arn):
            problems.append("playback_domain and playback_certificate_arn go together (an alternate domain name "
                            "needs a certificate)")
        if self.playback_domain and not self.serves_playback_from_cdn:
            problems.append("playback_domain needs playback_distribution (the distribution it names)")
        if self.playback_certificate_arn and not _CLOUDFRONT_CERTIFICATE.match(self.playback_certificate_arn):
            problems.append("playback_certificate_arn must be an ACM certificate in us-east-1 (CloudFront's region)")
        if not 0 <= self.recording_reconnect_window_seconds <= 300:
            problems.append("recording_reconnect_window_seconds must be 0-300 (IVS limit)")
        if not 1 <= self.recording_thumbnail_interval_seconds <= 60:
            problems.append("recording_thumbnail_interval_seconds must be 1-60 (IVS limit)")
        if self.api_public_base and not _API_PUBLIC_BASE.match(self.api_public_base):
            problems.append(f"api_public_base {self.api_public_base!r} must be an https URL without a trailing "
                            "slash, query or fragment")
        if self.api_public_base.rstrip("/").endswith("/v1"):
            problems.append("api_public_base is the base without /v1 (the payments code appends /v1/payments/...)")
        if not 60 <= self.order_payment_window_seconds <= 2 * 3600:
            problems.append("order_payment_window_seconds must be 60-7200 (an unpaid order holds stock)")
        problems += replay_key_problems(self.replay_public_keys, pending=self.replay_keys_pending)
        problems += notice_template_problems({"wechat": self.wechat_notice_templates,
                                              "alipay": self.alipay_notice_templates},
                                             pending=self.notice_templates_pending)
        if problems:
            raise ValueError(f"stage {self.name}: " + "; ".join(problems))

    def notice_template_environment(self) -> dict[str, str]:
        """WECHAT_TEMPLATE_<KIND> / ALIPAY_TEMPLATE_<KIND> of the functions that send notices."""
        ids = {"wechat": self.wechat_notice_templates, "alipay": self.alipay_notice_templates}
        return {template_env_var(channel, kind): ids[channel][kind]
                for channel in NOTICE_CHANNELS for kind in NOTICE_KINDS if kind in ids[channel]}

    @property
    def serves_playback_from_cdn(self) -> bool:
        """Whether the stage has the playback distribution (and GET /playback uses it)."""
        return self.playback_distribution or bool(self.playback_origin_domain)

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
    def realtime_authorizer_name(self) -> str:
        """The IoT Core custom authorizer of the stage's real-time channel."""
        return f"{self.prefix}-realtime"

    @property
    def token_ttl(self) -> Duration:
        return Duration.seconds(self.token_ttl_seconds)


def notice_template_problems(ids: dict[str, Mapping[str, str]], *, pending: bool) -> list[str]:
    """What is wrong with a stage's notice template ids (empty: nothing)."""
    problems = []
    for channel, templates in ids.items():
        unknown = sorted(set(templates) - set(NOTICE_KINDS))
        if unknown:
            problems.append(f"{channel}_notice_templates has unknown notice kinds {', '.join(unknown)} "
                            f"(known: {', '.join(NOTICE_KINDS)})")
        bad = sorted(kind for kind, value in templates.items()
                     if not isinstance(value, str) or not _NOTICE_TEMPLATE_ID.match(value) or value.startswith("local-"))
        if bad:
            problems.append(f"{channel}_notice_templates: {', '.join(bad)} must be the template id the {channel} "
                            "console gave (letters, digits, _ and -; not a local- placeholder)")
    complete = all(kind in templates for templates in ids.values() for kind in NOTICE_KINDS)
    if pending:
        if complete:
            problems.append("notice_templates_pending is for a stage without all its notice template ids; "
                            "they are all set: drop it")
        return problems
    for channel, templates in ids.items():
        missing = [kind for kind in NOTICE_KINDS if kind not in templates]
        if missing:
            problems.append(f"{channel}_notice_templates is missing the template ids of {', '.join(missing)}: a "
                            f"deployed stage cannot send with the local placeholder ids ({channel} refuses them). "
                            "Set them, or notice_templates_pending=True until the templates are granted (the "
                            "sending functions then refuse to run)")
    return problems


def replay_key_problems(pems: tuple[str, ...], *, pending: bool) -> list[str]:
    """What is wrong with a stage's replay public keys (empty: nothing). Never echoes a key."""
    # deferred: cryptography is only needed here, at synth (cdk/config.py is imported by every CDK module)
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    if not isinstance(pems, tuple):
        return ["replay_public_keys must be a tuple of PEM strings"]
    if pending:
        return ["replay_keys_pending is for a stage without replay_public_keys yet; with keys, set it to False"] \
            if pems else []
    if not pems:
        return ["replay_public_keys is required: the replay edge function (Lambda@Edge, no environment variables) "
                "verifies replay tokens with the playback public key, bundled at synth. Put the media stack's "
                "PlaybackPublicKeyPem output there; a new stage deploys first with replay_keys_pending=True "
                "(docs/replays.md, \"The replay edge function on AWS\")"]
    problems = []
    for n, pem in enumerate(pems, 1):
        if not isinstance(pem, str) or "PRIVATE KEY" in pem:
            problems.append(f"replay_public_keys[{n}] is not a public key PEM (never put a private key in the "
                            "stage configuration)")
            continue
        try:
            key = load_pem_public_key(pem.strip().encode())
        except ValueError:
            problems.append(f"replay_public_keys[{n}] is not a PEM public key (SubjectPublicKeyInfo)")
            continue
        if not isinstance(key, ec.EllipticCurvePublicKey) or key.curve.name != "secp384r1":
            problems.append(f"replay_public_keys[{n}] is not a P-384 (ES384) key like the playback key pair")
    if len(set(p.strip() for p in pems if isinstance(p, str))) != len(pems):
        problems.append("replay_public_keys holds the same key twice")
    if len(pems) > 3:
        problems.append("replay_public_keys: at most 3 (IVS holds at most 3 playback key pairs per region)")
    return problems


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
        recording_expiry_days=14,
        # No playback distribution: dev plays from the IVS URLs directly.
        # Placeholder: the stage's API domain (custom domain mapped to the dev stage).
        api_public_base="https://api.dev.livecommerce.example.com",
        # Not deployed yet from this repository: the first deploy generates the playback key
        # pair; then replay_public_keys=(<PlaybackPublicKeyPem output>,) and this line goes.
        replay_keys_pending=True,
        # Not applied for yet: wechat_notice_templates / alipay_notice_templates = {kind: id} for every
        # notice kind, then this line goes (until then the notice-sending functions refuse to run).
        notice_templates_pending=True,
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
        # Playback through CloudFront; its IVS origin is derived at deploy (no placeholder host).
        # Set playback_domain and playback_certificate_arn once the filed domain is ready.
        playback_distribution=True,
        # Placeholder, like the console origin: the API's public domain (custom domain
        # mapped to the prod stage), where WeChat Pay and Alipay post their notifications.
        api_public_base="https://api.livecommerce.example.com",
        # As dev: replay_public_keys after the first deploy (docs/replays.md).
        replay_keys_pending=True,
        # As dev: the notice template ids once WeChat and Alipay granted the templates.
        notice_templates_pending=True,
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

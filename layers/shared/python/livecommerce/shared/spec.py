"""The spec types: what a context declares about itself.

Each context has one `spec.py` that builds a `ContextSpec` from these types and
imports nothing else (no boto3, no pydantic, no other context), so CDK, the
local stack, the OpenAPI writer and the tests can read every declaration
without loading any code that runs. `livecommerce.manifest` lists the
contexts and puts their declarations together.

A function may use another context's table (the rooms function reads the
catalog's presets for the announcement's hot products): it names that table by
its logical id, and the manifest resolves the name to the owner's TableSpec.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Union

# --------------------------------------------------------------------- routes

Auth = Literal["public", "token"]
Who = Literal["anyone", "viewer", "host", "operator", "owner", "provider"]

# How long API Gateway keeps the token authorizer's answer for one Authorization header.
# The authorizer allows the whole API for a valid token, so one answer serves every route.
# A token can therefore be used up to this long after it expires (or its user is changed).
AUTHORIZER_CACHE_SECONDS = 300


@dataclass(frozen=True)
class ServiceIntegration:
    """A route API Gateway serves without a Lambda: an AWS service integration (today Firehose
    PutRecordBatch for the behaviour beacons). The route's `function` is then its REQUEST
    authorizer, the only Lambda that runs for it (once per cache key per TTL, not per request).

    CDK builds the method from this (request model, mapping templates, role), the local gateway
    runs the same model, the same templates and the same authorizer, and the OpenAPI writer
    documents it: everything is named here by module path, so this module imports nothing."""

    service: str                  # "firehose"
    action: str                   # "PutRecordBatch"
    target: str                   # the delivery stream's store table ("beacons")
    # "module:function" returning the request body's JSON Schema (draft 4, API Gateway's dialect)
    request_schema: str
    # "module:function" returning (request template, response templates by status) in VTL
    templates: str
    # Identity sources of the authorizer besides Authorization (each part of the cache key).
    identity_headers: tuple[str, ...] = ()
    authorizer_cache_seconds: int = 600
    success_status: int = 202
    # Statuses the templates and the authorizer answer besides the derived ones.
    errors: tuple[int, ...] = ()
    summary: str = ""


@dataclass(frozen=True)
class Route:
    """One HTTP route. `function` names the Lambda (folder under functions/) that
    serves it; `auth` says whether API Gateway runs the token authorizer first
    ("token") or lets the call through anonymously ("public"). Role checks
    (viewer, host, operator) happen in the handlers, so `who` documents and tests them."""

    method: str
    path: str
    function: str
    auth: Auth
    who: Who
    max_body_bytes: int = 16 * 1024
    # Room-scoped routes name the input that leads to their room: "path.room_id" (the default
    # for a path with {room_id}), "body.room_id", or the path parameter / body field of an entity
    # that belongs to a room ("path.sale_id", "body.template_id"). Such a route passes the rooms
    # context's visibility gate (livecommerce.rooms.require_visible): a test room is answered as
    # nothing for anyone who does not run it. The authorization matrix has a test-room row for each.
    room_from: str | None = None
    # The media type its body must have (livecommerce.shared.bodies checks it before the route
    # runs): "application/json" (also application/*+json), or "application/x-www-form-urlencoded".
    media_type: str = "application/json"
    # Error statuses the route's own code answers beyond those the OpenAPI writer derives from
    # the route's facts (livecommerce.shared.openapi: 401 token/bearer, 403 host/operator, 404 path
    # parameters and room_from, 400/413/415/422 bodies and parameters, 409 writes and
    # Idempotency-Key, 429 everywhere): e.g. (403,) for a viewer route that refuses banned users,
    # (404,) for a body naming an entity, (503,) for a provider call.
    errors: tuple[int, ...] = ()
    # Set: API Gateway serves the route with this service integration, no Lambda behind it;
    # `function` names its REQUEST authorizer.
    integration: ServiceIntegration | None = None

    def __post_init__(self) -> None:
        if self.room_from is None and "{room_id}" in self.path:
            object.__setattr__(self, "room_from", "path.room_id")
        if self.room_from is not None:
            where, _, name = self.room_from.partition(".")
            if where not in ("path", "body", "query") or not name:   # query: a list of rooms (?rooms=a,b)
                raise ValueError(f"{self.key}: room_from is 'path.<param>', 'body.<field>' or 'query.<param>', "
                                 f"not {self.room_from!r}")
            if where == "path" and "{" + name + "}" not in self.path:
                raise ValueError(f"{self.key}: room_from names {{{name}}}, which is not in the path")

    @property
    def key(self) -> str:
        return f"{self.method} {self.path}"


def match_route(routes: tuple[Route, ...], method: str, path: str) -> tuple[Route, dict[str, str]] | None:
    """Find the route for a concrete path, as API Gateway does for resources."""
    parts = path.rstrip("/").split("/") if path != "/" else [""]
    for route in routes:
        if route.method != method:
            continue
        template = route.path.split("/")
        if len(template) != len(parts):
            continue
        params: dict[str, str] = {}
        for t, p in zip(template, parts):
            if t.startswith("{") and t.endswith("}"):
                if not p:
                    break
                params[t[1:-1]] = p
            elif t != p:
                break
        else:
            return route, params
    return None


# --------------------------------------------------------------------- tables

@dataclass(frozen=True)
class IndexSpec:
    name: str
    partition_key: str
    sort_key: str | None = None


@dataclass(frozen=True)
class TableSpec:
    """A DynamoDB table: the CDK data stack builds it, the local stack creates the
    same table in the embedded AWS, the PynamoDB models take their key and index
    names from it (a test checks the models against the specs)."""

    logical_id: str          # CDK construct id and suffix of the physical name
    env_var: str             # environment variable that carries the physical name
    partition_key: str = "pk"
    sort_key: str | None = "sk"
    indexes: tuple[IndexSpec, ...] = field(default_factory=tuple)
    ttl_attribute: str | None = None
    stream: bool = False

    def physical_name(self, prefix: str) -> str:
        return f"{prefix}-{self.logical_id.lower()}"


# ------------------------------------------------------------- subscriptions

EVENT_SOURCE = "livecommerce"
IVS_SOURCE = "aws.ivs"


@dataclass(frozen=True)
class Subscription:
    """Which consumer function receives which domain events: one source for the
    CDK EventBridge rules and the local stack's event delivery."""

    name: str
    function: str                       # folder under functions/
    detail_types: tuple[str, ...] = ()  # empty: every detail type from the source
    source: str = EVENT_SOURCE
    # "domain": our bus. "default": the account's default bus, where AWS
    # services (IVS stream and recording state changes) put their events.
    bus: str = "domain"
    # An EventBridge content filter on the detail (e.g. {"object": {"key": [{"suffix": "/x.json"}]}}),
    # part of the rule's pattern on AWS and locally; `matches` does not look at it.
    detail: dict | None = field(default=None, hash=False, compare=False)

    def pattern(self) -> dict:
        pattern: dict = {"source": [self.source]}
        if self.detail_types:
            pattern["detail-type"] = list(self.detail_types)
        if self.detail:
            pattern["detail"] = self.detail
        return pattern

    def matches(self, source: str, detail_type: str) -> bool:
        return source == self.source and (not self.detail_types or detail_type in self.detail_types)


@dataclass(frozen=True)
class StreamConsumer:
    """A Lambda event source mapping on a table's DynamoDB stream.

    `filters` are Lambda event filtering patterns (FilterCriteria), matched
    against the stream record; a record passing any one of them is delivered.
    `batching_window_seconds` 0: invoke as soon as records arrive (Lambda
    polls each shard about four times a second). `parallelization_factor`:
    concurrent batches per shard, records of one partition key stay in order.
    The realtime CDK stack builds the mappings from these and the local stack's
    stream pump (local.mqtt.streams) delivers the same records, with the same
    filters, to the same handlers."""

    name: str
    function: str
    table_logical_id: str
    filters: tuple[dict, ...] = field(default_factory=tuple)
    batch_size: int = 100
    batching_window_seconds: int = 0
    starting_position: str = "LATEST"
    retry_attempts: int = 3
    max_record_age_seconds: int = 120
    parallelization_factor: int = 1


# -------------------------------------------------------------------- secrets

@dataclass(frozen=True)
class SecretSpec:
    """A secret the stack generates itself (random characters, encrypted with the data key):
    the CDK data stack creates it and the local stack creates the same one in the embedded
    AWS. Functions that read it say so in their FunctionSpec, which sets `env_var` to its name."""

    logical_id: str          # CDK construct id
    env_var: str             # environment variable that carries the secret's name
    name: str                # the physical name is <prefix>/<name>
    description: str
    length: int = 64

    def physical_name(self, prefix: str) -> str:
        return f"{prefix}/{self.name}"


# ------------------------------------------------------------------ functions

# IVS actions paced by our own code rather than by boto3 retries: timed metadata
# (livecommerce.interaction.cards sends at most one PutMetadata per 200 ms per
# channel and puts throttled cards back in its queue).
IVS_PACED_ACTIONS = frozenset({"PutMetadata"})

# A table a function uses: the owner context's TableSpec, or another context's
# table by logical id (resolved by the manifest).
TableRef = Union[TableSpec, str]


# ------------------------------------------------------------------ schedules

LAMBDA_MAX_TIMEOUT_SECONDS = 900
_RATE_UNITS = {"minute": 60, "minutes": 60, "hour": 3600, "hours": 3600, "day": 86400, "days": 86400}


def _cron_values(field_: str, limit: int) -> list[int]:
    if field_ == "*":
        return list(range(limit))
    values = sorted({int(v) for v in field_.split(",")})   # ValueError for ranges, steps, names
    if not values or values[0] < 0 or values[-1] >= limit:
        raise ValueError(field_)
    return values


def schedule_period_seconds(expression: str) -> int:
    """The shortest time between two firings of an EventBridge schedule expression:
    `rate(N unit)`, or `cron(minutes hours * * ? *)` with `*` or comma lists of numbers in the
    minutes and hours (every day). Anything else raises ValueError: extend this before using it."""
    text = expression.strip()
    if text.startswith("rate(") and text.endswith(")"):
        amount, unit = text[5:-1].split()
        if int(amount) < 1 or unit not in _RATE_UNITS:
            raise ValueError(f"unsupported rate expression {expression!r}")
        return int(amount) * _RATE_UNITS[unit]
    if text.startswith("cron(") and text.endswith(")"):
        fields = text[5:-1].split()
        if len(fields) != 6 or fields[2] not in ("*", "?") or fields[3] != "*" or fields[4] not in ("*", "?") \
                or fields[5] != "*":
            raise ValueError(f"unsupported cron expression {expression!r} (every day only)")
        try:
            minutes = sorted(h * 60 + m for h in _cron_values(fields[1], 24) for m in _cron_values(fields[0], 60))
        except ValueError:
            raise ValueError(f"unsupported cron expression {expression!r} (numbers, lists or * only)") from None
        gaps = [b - a for a, b in zip(minutes, minutes[1:])] + [minutes[0] + 1440 - minutes[-1]]
        return min(gaps) * 60
    raise ValueError(f"unsupported schedule expression {expression!r}")


@dataclass(frozen=True)
class LongRun:
    """A scheduled function that is also invoked directly for runs longer than its schedule's period:
    a clock that ticks for a whole window (a PK's one-second score), or a timer that sleeps until its
    second. The scheduled tick itself stays short (a fallback sweep); only the invoked runs are long,
    and they are started by the functions that name this one in `invokes` (checked by the infra tests).
    `max_seconds` bounds the function's timeout; `reason` says why it needs that long."""

    reason: str
    max_seconds: int

    def __post_init__(self) -> None:
        if not self.reason.strip():
            raise ValueError("LongRun needs a reason")
        if not 0 < self.max_seconds <= LAMBDA_MAX_TIMEOUT_SECONDS:
            raise ValueError(f"LongRun.max_seconds must be 1..{LAMBDA_MAX_TIMEOUT_SECONDS}")


@dataclass(frozen=True)
class FunctionSpec:
    """What one Lambda function may touch: the source of its IAM grants and of the
    table environment variables it gets. Least privilege by default: a function
    gets nothing that is not listed here. The name is its folder under functions/."""

    name: str
    description: str
    tables_read: tuple[TableRef, ...] = ()
    tables_write: tuple[TableRef, ...] = ()   # write implies read
    reads_token_secret: bool = False
    reads_providers_secret: bool = False
    # Pages lists (livecommerce.shared.paging): reads the cursor signing key
    # (platform_spec.CURSOR_SECRET) and gets its CURSOR_SECRET_ID.
    reads_cursor_secret: bool = False
    # The payment providers' merchant keys (WeChat Pay, Alipay). Also sets
    # PAYMENTS_SECRET_ID, PAYMENT_NOTIFY_BASE (the stage's api_public_base),
    # WECHATPAY_API_BASE and ALIPAY_PAY_GATEWAY.
    reads_payments_secret: bool = False
    # Creates orders: ORDER_PAYMENT_WINDOW_SECONDS (the stage's payment window).
    creates_orders: bool = False
    puts_events: bool = False
    # The playback key pair secret (the private key signs IVS playback tokens);
    # also sets PLAYBACK_KEY_SECRET_ID and PLAYBACK_DOMAIN.
    reads_playback_key: bool = False
    # Non-empty: kms:Encrypt and kms:Decrypt with the PII key, called directly (not
    # through a service), allowed only with exactly these encryption context keys.
    # Also sets PII_KEY_ID.
    pii_encryption_context: tuple[str, ...] = ()
    # Read, write (presigned POST/GET) and list objects of the materials bucket,
    # under this key prefix only (ends with "/").
    materials_prefix: str | None = None
    # Copies public rooms' covers to the web stack's public-covers bucket: s3:PutObject under covers/ of
    # that bucket only (the source is read under materials_prefix), and PUBLIC_COVERS_BUCKET and
    # PUBLIC_COVERS_BASE_URL (the web distribution, which serves /covers/*).
    public_covers: bool = False
    # IVS actions the function calls ("CreateChannel", ...), on the channels and
    # stream keys of the account and region. Control-plane actions also set
    # AWS_RETRY_MODE=standard: IVS allows 5 requests per second for most of them
    # (not IVS_PACED_ACTIONS, whose caller paces and re-queues them itself).
    ivs_actions: tuple[str, ...] = ()
    # Publishes to the real-time room channel (IoT Core): iot:Publish on this
    # stage's room topics (lc/<stage>/rooms/*) and iot:DescribeEndpoint (the
    # account's ATS data endpoint, looked up once per container).
    publishes_realtime: bool = False
    # Hands out real-time credentials: REALTIME_ENDPOINT (empty: the ATS endpoint
    # found with DescribeEndpoint) and REALTIME_AUTHORIZER_NAME.
    realtime_client_settings: bool = False
    # The stage's recording settings: RECORDING_CONFIGURATION_ARN and
    # RECONNECT_WINDOW_SECONDS (functions that provision channels or follow
    # the room lifecycle).
    media_settings: bool = False
    # Functions this one invokes asynchronously (InvocationType=Event): lambda:InvokeFunction
    # on exactly those, and <NAME>_FUNCTION (upper case) with each one's name.
    invokes: tuple[str, ...] = ()
    # Invoked on a schedule (an EventBridge rule), e.g. "rate(1 minute)". A scheduled run lasts at
    # most one period of its schedule (timeout_seconds <= schedule_period_seconds): a run that
    # overlaps the next one is safe (every step is a conditional write), a run that outlasts several
    # would pile up. A function also invoked for longer runs declares them in `long_run`.
    schedule: str | None = None
    long_run: LongRun | None = None
    # State machines (StateMachineSpec.key) this function starts through EventBridge Scheduler
    # one-time schedules: scheduler:Create/Update/DeleteSchedule in each machine's schedule
    # group, iam:PassRole of the scheduler's role only, and <KEY>_STATE_MACHINE_ARN,
    # <KEY>_SCHEDULE_GROUP and SCHEDULER_ROLE_ARN (cdk/stacks/workflows_stack.py).
    schedules_workflows: tuple[str, ...] = ()
    # Sends SMS through SNS Publish to a phone number (no topic): sns:Publish, which takes no
    # resource for a phone number, with publishing to any topic or endpoint denied.
    sends_sms: bool = False
    # Sends WeChat subscribe messages / Alipay template messages: <CHANNEL>_TEMPLATE_<KIND> for every
    # notice kind, from the stage's wechat_notice_templates / alipay_notice_templates (cdk/config.py).
    sends_notices: bool = False
    # Runs the analytics report queries (livecommerce.analytics.queries): Athena in the stage's
    # workgroup, the Glue catalogue, the store bucket (read) and the Athena results bucket, granted by
    # the analytics stack; ANALYTICS_ENGINE=athena, ANALYTICS_WORKGROUP and ANALYTICS_DATABASE.
    queries_analytics: bool = False
    # Puts records on the analytics store's `events` Firehose stream (livecommerce.analytics.store_writer):
    # firehose:PutRecordBatch on that stream only, and ANALYTICS_EVENTS_STREAM with its name.
    puts_analytics_events: bool = False
    # Read and write objects of the exports bucket under these prefixes (each ends with "/"):
    # stored reports and workbooks; presigned GET links are signed with the same rights.
    exports_prefixes: tuple[str, ...] = ()
    # Fixed settings of this function (name, value): the same on every stage, from the spec.
    environment: tuple[tuple[str, str], ...] = ()
    # State machines (StateMachineSpec.key) this function starts with StartExecution:
    # states:StartExecution on each, and <KEY>_STATE_MACHINE_ARN.
    starts_workflows: tuple[str, ...] = ()
    # The recordings bucket (IVS auto-record): "read" (GetObject, ListBucket) or "write" (also PutObject),
    # and RECORDINGS_BUCKET / REPLAY_BASE_URL (the replay CloudFront distribution).
    recordings_access: str | None = None
    # Tables (logical ids, among tables_write) whose warm throughput the function raises before a big
    # flash sale (orders.prewarm): dynamodb:UpdateTable on exactly those.
    warms_tables: tuple[str, ...] = ()
    memory_mb: int = 512
    timeout_seconds: int = 10

    def __post_init__(self) -> None:
        if self.materials_prefix is not None and not (self.materials_prefix.endswith("/")
                                                      and self.materials_prefix.strip("/")):
            raise ValueError(f"{self.name}: materials_prefix must be a non-empty prefix ending in '/'")
        if any(action.startswith("ivs:") or "*" in action for action in self.ivs_actions):
            raise ValueError(f"{self.name}: ivs_actions are bare action names, without 'ivs:' or wildcards")
        if self.long_run is not None and self.schedule is None:
            raise ValueError(f"{self.name}: long_run is for scheduled functions (a timeout is enough otherwise)")

    def schedule_problems(self) -> list[str]:
        """Why this function's timeout breaks the schedule rule (empty: it keeps it)."""
        if self.schedule is None:
            return []
        period = schedule_period_seconds(self.schedule)
        if self.timeout_seconds > LAMBDA_MAX_TIMEOUT_SECONDS:
            return [f"{self.name}: timeout {self.timeout_seconds} s is over Lambda's {LAMBDA_MAX_TIMEOUT_SECONDS} s"]
        if self.long_run is None:
            if self.timeout_seconds > period:
                return [f"{self.name}: timeout {self.timeout_seconds} s outlasts its schedule's period ({period} s) "
                        "and it declares no long_run"]
            return []
        if self.timeout_seconds > self.long_run.max_seconds:
            return [f"{self.name}: timeout {self.timeout_seconds} s is over its long_run maximum "
                    f"({self.long_run.max_seconds} s)"]
        if self.timeout_seconds <= period:
            return [f"{self.name}: declares a long_run but its timeout fits the schedule's period: drop it"]
        return []

    @property
    def ivs_retry_mode(self) -> bool:
        """Whether the function calls IVS control-plane actions (AWS_RETRY_MODE=standard)."""
        return any(action not in IVS_PACED_ACTIONS for action in self.ivs_actions)

    @property
    def tables(self) -> tuple[TableSpec, ...]:
        """Every table the function uses (read or write), without repeats (after the manifest resolved names)."""
        seen: dict[str, TableSpec] = {}
        for spec in (*self.tables_write, *self.tables_read):
            if isinstance(spec, str):
                raise TypeError(f"{self.name}: table {spec!r} is a name; read the function from the manifest")
            seen.setdefault(spec.logical_id, spec)
        return tuple(seen.values())


# ------------------------------------------------------------- state machines

@dataclass(frozen=True)
class StateMachineSpec:
    """A Step Functions state machine defined by statemachines/<asl>.asl.json.

    `tasks` maps each `${Substitution}` of the file to the function (FunctionSpec name) whose ARN
    fills it: the workflows stack (DefinitionSubstitutions, and lambda:InvokeFunction on exactly
    these functions) and the local stack (local/stepfunctions.py) fill them from here, so the
    names cannot drift. The machine is named `<prefix>-<name>`. `scheduled`: started by
    EventBridge Scheduler one-time schedules in its own schedule group `<prefix>-<key>s`, through a
    scheduler role that may start only the scheduled machines. `distributed_map`: it runs child
    executions of itself (states:StartExecution on itself, Describe/StopExecution on its own
    executions)."""

    key: str
    asl: str
    name: str
    tasks: tuple[tuple[str, str], ...]
    scheduled: bool = False
    distributed_map: bool = False
    description: str = ""

    @property
    def env_prefix(self) -> str:
        return self.key.upper()

    def physical_name(self, prefix: str) -> str:
        return f"{prefix}-{self.name}"

    def schedule_group(self, prefix: str) -> str:
        """The EventBridge Scheduler group of a scheduled machine's one-time schedules."""
        return f"{prefix}-{self.key}s"


def scheduler_role_name(prefix: str) -> str:
    """The role EventBridge Scheduler assumes to start the scheduled state machines."""
    return f"{prefix}-workflows-scheduler"


# ------------------------------------------------------------------- contexts

@dataclass(frozen=True)
class ContextSpec:
    """Everything one bounded context declares.

    `router` names the module that defines `build_router(api)` for the
    context's HTTP routes (imported by the composition root, never here).
    `emits` lists the detail types of the domain events the context publishes;
    their pydantic models live in the context's `events` module (a test checks
    the two agree)."""

    name: str
    description: str
    tables: tuple[TableSpec, ...] = ()
    routes: tuple[Route, ...] = ()
    subscriptions: tuple[Subscription, ...] = ()
    stream_consumers: tuple[StreamConsumer, ...] = ()
    functions: tuple[FunctionSpec, ...] = ()
    emits: tuple[str, ...] = ()
    router: str | None = None
    secrets: tuple[SecretSpec, ...] = ()
    state_machines: tuple[StateMachineSpec, ...] = ()

    def routes_for(self, function: str) -> tuple[Route, ...]:
        """This context's routes served by `function`: what an entry module passes to `Api`, so a
        function imports its own context's spec, not the manifest (every context's models)."""
        return tuple(route for route in self.routes if route.function == function)

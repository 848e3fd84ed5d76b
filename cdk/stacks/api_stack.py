"""The HTTP API and the functions behind it, plus the EventBridge consumers.

Functions, routes and event subscriptions come from the manifest
(livecommerce.manifest, which reads every context's spec.py): adding a route, a
function or a consumer is a change to a context's spec, not to this stack. Subscriptions on the
"default" bus (IVS events) get a rule on the account's default event bus;
functions with a `schedule` get a schedule rule. Media settings (recording
configuration, playback key secret) come from the media stack. The real-time
functions get their IoT Core publish grant here (FunctionSpec.publishes_realtime);
the realtime stack, built after this one, adds the custom authorizer and the
stream mappings.
"""
from __future__ import annotations

import json
from typing import Iterable

from aws_cdk import ArnFormat, CfnOutput, Duration, Stack
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from cdk import nag
from cdk.config import StageConfig
from cdk.constructs import grants
from cdk.constructs.lambda_function import LambdaFunction
from cdk.constructs.routed_api import RoutedRestApi, problem_body_with_correlation_id
from cdk.constructs.shared_layer import SharedLayer
from cdk.constructs.web_acl import RegionalWebAcl
from cdk.stacks.analytics_stack import glue_database_name
from cdk.stacks.analytics_stack import workgroup_name as analytics_workgroup_name
from cdk.stacks.data_stack import DataStack
from cdk.stacks.media_stack import MediaStack
from cdk.stacks.realtime_stack import RealtimeStack
from cdk.stacks.web_stack import WebStack
from cdk.stacks.workflows_stack import function_environment as workflows_environment
from livecommerce.analytics.store_schema import delivery_stream_name
from livecommerce.engagement.settings import DRAND_FUNCTIONS, drand_mainnet_env
from livecommerce.interaction import topics
from livecommerce.manifest import BY_NAME, FUNCTION_SPECS, ROUTES, STREAM_CONSUMERS, SUBSCRIPTIONS
from livecommerce.shared import gateway_responses
from livecommerce.shared.platform_spec import CURSOR_SECRET
from livecommerce.shared.spec import FunctionSpec

WECHAT_API_BASE = "https://api.weixin.qq.com"
ALIPAY_GATEWAY = "https://openapi.alipay.com/gateway.do"
# Payments (livecommerce.orders.settings): WeChat Pay v3 API and Alipay's open API gateway.
WECHATPAY_API_BASE = "https://api.mch.weixin.qq.com"
ALIPAY_PAY_GATEWAY = "https://openapi.alipay.com/gateway.do"
METRICS_NAMESPACE = "LiveCommerce"
# Lambda SnapStart (docs/cold-start.md): on every function behind a Lambda-proxy API route, whose
# entry module loads its routes' work at init (livecommerce.shared.warmup), so the snapshot holds
# it; API Gateway invokes their `live` alias. Not on `docs` (a file read: its cold start is under the
# hello-world's, and SnapStart for Python bills the snapshot's caching and each restore).
NO_SNAP_START = frozenset({"docs"})
SNAP_START_FUNCTIONS = frozenset(
    route.function for route in ROUTES if route.integration is None) - NO_SNAP_START
# boto3's "standard" retry mode retries throttling with backoff (3 attempts);
# IVS allows 5 requests per second for most channel and stream-key operations.
IVS_RETRY_MODE = "standard"

# Why a function's IAM statement may name a wildcard resource (cdk-nag
# AwsSolutions-IAM5, acknowledged per resource on the function's role).
WILDCARD_REASONS = {
    "public_covers": "Public rooms' covers are objects whose keys are made per upload (covers/<room_id>/<upload_id>); "
                     "the grant is PutObject under the covers/ prefix of the public-covers bucket only.",
    "materials": "Materials are objects whose keys are made per upload (rooms/<room_id>/materials/<id>); the "
                 "grant is the {prefix} prefix of the materials bucket only (ListBucket is limited to the same "
                 "prefix by an s3:prefix condition); presigned POST and GET are signed with it.",
    "ivs": "IVS assigns channel, stream key, stage and composition ids when our functions create them (one "
           "channel per room, a real-time stage per co-streaming room, a composition per layout switch, all "
           "at run time), so the resource is every resource of that type in this account and region; the "
           "actions are exactly those this function calls ({actions}), each on the resource types the Service "
           "Authorization Reference gives it. Stages and compositions are further limited by tag: created only "
           "with aws:RequestTag/stage={stage} and used only with aws:ResourceTag/stage={stage}. "
           "encoder-configuration/* is required by StartComposition (the default encoder configuration; we "
           "create none). Keep deployment stages in separate accounts to separate their channels.",
    "exports": "Stored reports and workbooks are objects whose keys are made per room and export "
               "({prefix}<room_id>/...); the grant is the {prefix} prefix of the exports bucket only (ListBucket "
               "limited to it by an s3:prefix condition); presigned GET links are signed with it.",
    "recordings": "IVS names each recording's prefix at run time (ivs/v1/<account>/<channel>/<date>/<recording id>); "
                  "the grant is objects under ivs/v1/ of the recordings bucket only (ListBucket limited to that "
                  "prefix by an s3:prefix condition): the recorded playlists, and the clip playlists written beside them.",
    "iot_topics": "Rooms are created at run time and each has its own topics (lc/{stage}/rooms/<room_id>/danmaku, "
                  "/events, /users/<user_id>); the grant is iot:Publish on this stage's room topics only. Viewers "
                  "get no publish right at all (the custom authorizer's policy allows subscribe and receive).",
}
# The IVS resource types our functions' grants name (cdk.constructs.grants.IVS_ACTION_RESOURCES).
IVS_RESOURCE_TYPES = ("channel", "stream-key", "stage", "composition", "encoder-configuration")
# Why a function's role has Resource '*' besides X-Ray (the same AwsSolutions-IAM5 finding).
UNSCOPED_ACTION_REASONS = {
    "iot_describe_endpoint": "iot:DescribeEndpoint supports no resource-level permissions (AWS requires "
                             "Resource '*'); it only returns the account's IoT data endpoint host name, "
                             "looked up once per container because it cannot be known at synth time.",
}
# Response types API Gateway's own status code is kept for: a catch-all cannot
# know which 4xx/5xx it stands for.
_KEEP_STATUS = {"DEFAULT_4XX", "DEFAULT_5XX"}

# EventBridge pattern keys (Subscription.pattern()) -> EventPattern fields.
_PATTERN_FIELDS = {"source": "source", "detail-type": "detail_type", "detail": "detail",
                   "account": "account", "region": "region", "resources": "resources"}


def event_pattern(pattern: dict) -> events.EventPattern:
    unknown = set(pattern) - set(_PATTERN_FIELDS)
    if unknown:
        raise ValueError(f"unsupported event pattern keys: {sorted(unknown)}")
    return events.EventPattern(**{_PATTERN_FIELDS[key]: value for key, value in pattern.items()})


def gateway_response_table() -> dict[str, tuple[int | None, str]]:
    """The domain's gateway response table as (status, body) for the API."""
    table = {}
    for response_type, (status, *_rest) in gateway_responses.GATEWAY_RESPONSES.items():
        body = json.loads(gateway_responses.body_for(response_type))
        if response_type in _KEEP_STATUS:
            body.pop("status", None)
            status = None
        table[response_type] = (status, problem_body_with_correlation_id(json.dumps(body)))
    return table


def check_function_specs() -> None:
    """Every function a route or subscription names needs a FunctionSpec (its grants)."""
    named = {r.function: f"route {r.key}" for r in ROUTES}
    named.update({s.function: f"subscription {s.name}" for s in SUBSCRIPTIONS})
    named.update({c.function: f"stream consumer {c.name}" for c in STREAM_CONSUMERS})
    named["authorizer"] = "the token authorizer"
    named["realtime_authorizer"] = "the IoT Core custom authorizer"
    missing = sorted(f"{function!r} ({user})" for function, user in named.items() if function not in BY_NAME)
    if missing:
        raise LookupError("no FunctionSpec in any context's spec.py for: " + ", ".join(missing)
                          + ". Add one with exactly the tables, secrets and events the function uses.")


class ApiStack(Stack):
    def __init__(self, scope: Construct, id: str, *, config: StageConfig, data: DataStack, media: MediaStack,
                 web: WebStack | None = None, **kwargs) -> None:
        super().__init__(scope, id, **kwargs)
        self.config = config
        self.data = data
        self.media = media
        self.web = web     # the public-covers bucket and its distribution (FunctionSpec.public_covers)
        self.add_stack_dependency(data, "the API uses the data stack's tables, bus, key and secrets")
        self.add_stack_dependency(media, "the rooms function uses the recording configuration and playback key")
        prefix = config.prefix
        check_function_specs()

        layer = SharedLayer(self, "SharedLayer", layer_version_name=f"{prefix}-shared").layer

        # Failed event deliveries (EventBridge -> Lambda) and failed asynchronous
        # invocations of the consumers (after Lambda's own retries) end up here.
        self.events_dlq = sqs.Queue(
            self,
            "EventsDlq",
            queue_name=f"{prefix}-events-dlq",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=Duration.days(14),
        )
        consumers = {subscription.function for subscription in SUBSCRIPTIONS}

        self.functions: dict[str, LambdaFunction] = {}
        for spec in FUNCTION_SPECS:
            self.functions[spec.name] = self._function(
                spec, layer, dead_letter_queue=self.events_dlq if spec.name in consumers else None)
        # Asynchronous invocations between our functions ask for work at a moment (a danmaku
        # slot, a flash sale's start): a retry minutes later would be late, so none. What such a
        # call was for is picked up by its fallback (the caller itself, the next minute tick),
        # and a missed tick of the commerce clock by the next one. stream_events invokes itself (a
        # planned switch's check) but is first the IVS events' consumer, which EventBridge invokes
        # asynchronously too: it keeps Lambda's retries (its work is idempotent, derived from facts).
        for callee in sorted({name for spec in FUNCTION_SPECS for name in spec.invokes} - {"stream_events"}):
            self.functions[callee].function.configure_async_invoke(
                retry_attempts=0, max_event_age=Duration.seconds(60))

        self.web_acl = RegionalWebAcl(
            self,
            "Waf",
            name=f"{prefix}-api",
            rate_limit_per_5min=config.waf_rate_limit_per_5min,
            rate_limited_body=gateway_responses.body_for("THROTTLED"),
            log_retention=config.log_retention,
            removal_policy=config.removal_policy,
        )
        self.rest_api = RoutedRestApi(
            self,
            "Http",
            config=config,
            routes=ROUTES,
            functions={name: fn.invocable for name, fn in self.functions.items()},
            authorizer_function=self.functions["authorizer"].function,
            gateway_responses=gateway_response_table(),
            # The beacon route's Firehose stream (cdk/stacks/analytics_stack.py names it the same way),
            # by name and ARN: computed, so the analytics stack may come after this one.
            service_targets={table: (delivery_stream_name(prefix, table), self.format_arn(
                service="firehose", resource="deliverystream", resource_name=delivery_stream_name(prefix, table)))
                for table in ("beacons",)},
        )
        self.web_acl.associate("ApiAssociation", resource_arn=self.rest_api.stage.stage_arn,
                               scope=self.rest_api.nested_stack)

        self.rules: dict[str, events.Rule] = {}
        for subscription in SUBSCRIPTIONS:
            # "domain": our bus; "default": the account's default bus (AWS service events).
            bus_kind = getattr(subscription, "bus", "domain")
            if bus_kind not in ("domain", "default"):
                raise ValueError(f"subscription {subscription.name}: unknown bus {bus_kind!r}")
            rule = events.Rule(
                self,
                f"{subscription.name}Rule",
                rule_name=f"{prefix}-{subscription.name}",
                description=f"{', '.join(subscription.pattern()['source'])} events -> {subscription.function}",
                event_bus=data.event_bus if bus_kind == "domain" else None,
                event_pattern=event_pattern(subscription.pattern()),
            )
            rule.add_target(targets.LambdaFunction(
                self.functions[subscription.function].function,
                dead_letter_queue=self.events_dlq,
                retry_attempts=config.event_retry_attempts,
                max_event_age=Duration.hours(config.event_max_age_hours),
            ))
            self.rules[subscription.name] = rule

        # Scheduled functions (the outbox sweeper). A failed run is not retried:
        # the next tick does the same work.
        for spec in FUNCTION_SPECS:
            if spec.schedule:
                rule = events.Rule(
                    self,
                    "Schedule" + "".join(part.title() for part in spec.name.split("_")),
                    rule_name=f"{prefix}-{spec.name.replace('_', '-')}-schedule",
                    description=f"{spec.schedule} -> {spec.name}",
                    schedule=events.Schedule.expression(spec.schedule),
                )
                rule.add_target(targets.LambdaFunction(self.functions[spec.name].function, retry_attempts=0))
                self.rules[f"schedule:{spec.name}"] = rule

        CfnOutput(self, "ApiUrl", value=self.rest_api.url, description="Base URL of the API stage")
        CfnOutput(self, "EventBusName", value=data.event_bus_name)
        for logical_id, spec in data.table_specs.items():
            CfnOutput(self, f"{logical_id}TableName", value=spec.physical_name(prefix))
        CfnOutput(self, "EventsDlqUrl", value=self.events_dlq.queue_url)

    def environment_for(self, spec: FunctionSpec) -> dict[str, str]:
        config, data = self.config, self.data
        env = {
            "STAGE": config.name,
            "POWERTOOLS_SERVICE_NAME": spec.name,
            "POWERTOOLS_METRICS_NAMESPACE": METRICS_NAMESPACE,
            "EVENT_BUS_NAME": data.event_bus_name,
            "TOKEN_SECRET_ID": data.token_secret_name,
            "PROVIDERS_SECRET_ID": data.providers_secret_name,
            "WECHAT_API_BASE": WECHAT_API_BASE,
            "ALIPAY_GATEWAY": ALIPAY_GATEWAY,
            "MATERIALS_BUCKET": data.materials_bucket.bucket_name,
            "EXPORTS_BUCKET": data.exports_bucket.bucket_name,
            "TOKEN_TTL_SECONDS": str(config.token_ttl_seconds),
        }
        for table in spec.tables:
            env[table.env_var] = table.physical_name(config.prefix)
        if spec.name in DRAND_FUNCTIONS:
            env.update(drand_mainnet_env())   # the pinned drand chain: the trust root of every lottery draw
        env.update(dict(spec.environment))
        if spec.queries_analytics:   # the grants come from the analytics stack (AnalyticsStack.grant_queries)
            env.update({"ANALYTICS_ENGINE": "athena", "ANALYTICS_WORKGROUP": analytics_workgroup_name(config),
                        "ANALYTICS_DATABASE": glue_database_name(config)})
        if spec.puts_analytics_events:   # the analytics store's events stream (AnalyticsStack names it so)
            env["ANALYTICS_EVENTS_STREAM"] = delivery_stream_name(config.prefix, "events")
        if spec.reads_cursor_secret:
            env[CURSOR_SECRET.env_var] = CURSOR_SECRET.physical_name(config.prefix)
        if spec.reads_playback_key:
            env["PLAYBACK_KEY_SECRET_ID"] = self.media.playback_key_secret_name
            # GET /playback hands out the playback distribution's domain on every stage that has one:
            # the filed domain when set, else the distribution's own *.cloudfront.net name.
            cdn = self.media.playback_cdn
            env["PLAYBACK_DOMAIN"] = config.playback_domain or (cdn.domain_name if cdn is not None else "")
        if spec.pii_encryption_context:
            env["PII_KEY_ID"] = data.pii_key.key_arn
        if spec.media_settings:
            env["RECORDING_CONFIGURATION_ARN"] = self.media.recording_configuration_arn
            env["RECONNECT_WINDOW_SECONDS"] = str(config.recording_reconnect_window_seconds)
        if spec.ivs_retry_mode:
            env["AWS_RETRY_MODE"] = IVS_RETRY_MODE
        if spec.reads_payments_secret:
            env["PAYMENTS_SECRET_ID"] = data.payments_secret_name
            env["PAYMENT_NOTIFY_BASE"] = config.api_public_base
            env["WECHATPAY_API_BASE"] = WECHATPAY_API_BASE
            env["ALIPAY_PAY_GATEWAY"] = ALIPAY_PAY_GATEWAY
        if spec.creates_orders:
            env["ORDER_PAYMENT_WINDOW_SECONDS"] = str(config.order_payment_window_seconds)
        if spec.sends_notices:   # WECHAT_/ALIPAY_TEMPLATE_<KIND>: the ids the consoles gave (none while pending)
            env.update(config.notice_template_environment())
        for callee in spec.invokes:
            env[f"{callee.upper()}_FUNCTION"] = self.function_name(callee)
        if spec.realtime_client_settings:
            # Computed from the config, not referenced: the realtime stack comes after this one.
            env.update(RealtimeStack.function_environment(config))
        if spec.schedules_workflows or spec.starts_workflows:
            # Computed too: the workflows stack (state machines, scheduler role) comes after this one.
            env.update(workflows_environment(self, config, spec))
        if spec.public_covers and self.web is not None:
            env["PUBLIC_COVERS_BUCKET"] = self.web.covers_bucket.bucket_name
            env["PUBLIC_COVERS_BASE_URL"] = self.web.covers_base_url
        if spec.recordings_access:
            env["RECORDINGS_BUCKET"] = self.media.recordings_bucket_name_import
            env["REPLAY_BASE_URL"] = self.media.replay_base_url_import
            # Every replay URL carries a token (/t/<token>/<key>): the replay distribution serves nothing
            # else, its edge function checks it (cdk/stacks/replay_edge_stack.py; docs/replays.md).
            env["REPLAY_URL_TOKENS"] = "on"
        return env

    def function_name(self, name: str) -> str:
        """A function's physical name, known before it exists (so callers can be granted it)."""
        return f"{self.config.prefix}-{name.replace('_', '-')}"

    def realtime_topic_arn(self) -> str:
        """Every room topic of this stage: topic/lc/<stage>/rooms/*."""
        return self.format_arn(service="iot", resource="topic",
                               resource_name=topics.room_prefix(self.config.name, "*"))

    def _function(self, spec: FunctionSpec, layer, *, dead_letter_queue: sqs.IQueue | None) -> LambdaFunction:
        config, data = self.config, self.data
        function = LambdaFunction(
            self,
            "Fn" + "".join(part.title() for part in spec.name.split("_")),
            name=spec.name,
            function_name=self.function_name(spec.name),
            description=spec.description,
            environment=self.environment_for(spec),
            layers=[layer],
            memory_mb=spec.memory_mb,
            timeout=Duration.seconds(spec.timeout_seconds),
            log_retention=config.log_retention,
            removal_policy=config.removal_policy,
            dead_letter_queue=dead_letter_queue,
            unscoped_action_reasons=[UNSCOPED_ACTION_REASONS["iot_describe_endpoint"]]
            if spec.publishes_realtime else [],
            snap_start=spec.name in SNAP_START_FUNCTIONS,
        )
        # Grants, exactly as the spec says.
        for table in spec.tables:
            function.add_to_role_policy(grants.table_statement(
                table_arn=data.tables[table.logical_id].table_arn, spec=table,
                write=table in spec.tables_write))
        if spec.warms_tables:   # a big flash sale's warm throughput (orders.prewarm)
            function.add_to_role_policy(iam.PolicyStatement(
                actions=["dynamodb:UpdateTable"],
                resources=[data.tables[logical_id].table_arn for logical_id in spec.warms_tables]))
        if spec.tables:
            function.add_to_role_policy(grants.kms_statement(
                key_arn=data.key.key_arn, services=["dynamodb"], encrypt=bool(spec.tables_write)))
        secret_arns = []
        if spec.reads_token_secret:
            secret_arns.append(data.token_secret.secret_arn)
        if spec.reads_providers_secret:
            secret_arns.append(data.providers_secret.secret_arn)
        if spec.reads_cursor_secret:
            secret_arns.append(data.generated_secrets[CURSOR_SECRET.logical_id].secret_arn)
        if spec.reads_playback_key:
            secret_arns.append(self.media.playback_key.secret.secret_arn)   # encrypted with the data key too
        if spec.reads_payments_secret:
            secret_arns.append(data.payments_secret.secret_arn)
        if secret_arns:
            function.add_to_role_policy(grants.secret_statement(secret_arns=secret_arns))
            function.add_to_role_policy(grants.kms_statement(
                key_arn=data.key.key_arn, services=["secretsmanager"], encrypt=False))
        if spec.puts_events:
            function.add_to_role_policy(grants.put_events_statement(event_bus_arn=data.event_bus.event_bus_arn))
        if spec.puts_analytics_events:   # PutRecordBatch on the analytics events stream only (by its name)
            function.add_to_role_policy(iam.PolicyStatement(
                actions=["firehose:PutRecordBatch"],
                resources=[self.format_arn(service="firehose", resource="deliverystream",
                                           resource_name=delivery_stream_name(config.prefix, "events"))]))
        if spec.pii_encryption_context:
            function.add_to_role_policy(grants.encryption_context_statement(
                key_arn=data.pii_key.key_arn, context_keys=spec.pii_encryption_context))
        if spec.materials_prefix:
            self._allow(function, grants.bucket_prefix_statements(
                bucket_arn=data.materials_bucket_arn_import, prefix=spec.materials_prefix),
                wildcard_reason=WILDCARD_REASONS["materials"].format(prefix=spec.materials_prefix))
            # The bucket is encrypted with the data key: uploads and downloads use it through S3.
            function.add_to_role_policy(grants.kms_statement(
                key_arn=data.key.key_arn, services=["s3"], encrypt=True))
        if spec.public_covers and self.web is not None:
            # PutObject (CopyObject's write side) under covers/ only: no read, list or delete of the bucket
            self._allow(function, [iam.PolicyStatement(
                actions=["s3:PutObject"], resources=[f"{self.web.covers_bucket_arn_import}/covers/*"])],
                wildcard_reason=WILDCARD_REASONS["public_covers"])
        for prefix in spec.exports_prefixes:
            self._allow(function, grants.bucket_prefix_statements(
                bucket_arn=data.exports_bucket_arn_import, prefix=prefix),
                wildcard_reason=WILDCARD_REASONS["exports"].format(prefix=prefix))
        if spec.exports_prefixes:   # the exports bucket is encrypted with the data key
            function.add_to_role_policy(grants.kms_statement(key_arn=data.key.key_arn, services=["s3"], encrypt=True))
        if spec.recordings_access:
            # IVS's layout only (ivs/v1/...): the recordings and, beside them, the clip playlists
            self._allow(function, grants.recordings_statements(
                bucket_arn=self.media.recordings_bucket_arn_import, write=spec.recordings_access == "write"),
                wildcard_reason=WILDCARD_REASONS["recordings"])
        if spec.ivs_actions:
            self._allow(function, grants.ivs_statements(actions=spec.ivs_actions, resource_arns={
                resource_type: self.format_arn(service="ivs", resource=resource_type, resource_name="*")
                for resource_type in IVS_RESOURCE_TYPES
            }, tag=("stage", config.name)), wildcard_reason=WILDCARD_REASONS["ivs"].format(
                actions=", ".join(spec.ivs_actions), stage=config.name))
        if spec.invokes:
            function.add_to_role_policy(grants.invoke_statement(function_arns=[
                self.format_arn(service="lambda", resource="function", resource_name=self.function_name(callee),
                                arn_format=ArnFormat.COLON_RESOURCE_NAME) for callee in spec.invokes]))
        if spec.publishes_realtime:
            self._allow(function, grants.iot_publish_statements(topic_arn=self.realtime_topic_arn()),
                        wildcard_reason=WILDCARD_REASONS["iot_topics"].format(stage=config.name))
        return function

    def _allow(self, function: LambdaFunction, statements: Iterable[iam.PolicyStatement], *,
               wildcard_reason: str) -> None:
        """Add the statements; acknowledge each wildcard resource in them (AwsSolutions-IAM5) with the reason."""
        for statement in statements:
            function.add_to_role_policy(statement)
            for resource in statement.resources:
                if resource == "*":
                    # One finding per role, acknowledged with X-Ray's (LambdaFunction's
                    # unscoped_action_reasons, from UNSCOPED_ACTION_REASONS); the infra tests
                    # allow '*' only for the actions listed there.
                    continue
                if "*" in resource:   # token strings never contain '*': only our own patterns do
                    nag.acknowledge(function.role, f"AwsSolutions-IAM5[Resource::{nag.flatten(self, resource)}]",
                                    wildcard_reason)

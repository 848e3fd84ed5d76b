"""Creates the stack's resources in an embedded AWS (moto) from the same specs
the CDK stacks use: tables from livecommerce.manifest, the event bus and
its rules from the manifest's subscriptions, the secrets and buckets.

Used by the local stack (against moto server) and by tests (in-process moto).
"""
from __future__ import annotations

import json
import secrets
from dataclasses import dataclass

from livecommerce.manifest import SUBSCRIPTIONS
from livecommerce.manifest import ALL_TABLES
from livecommerce.manifest import ALL_SECRETS
from livecommerce.shared.settings import LOCAL_STAGE
from livecommerce.shared.spec import TableSpec

LOCAL_PREFIX = f"livecommerce-{LOCAL_STAGE}"


@dataclass(frozen=True)
class LocalNames:
    prefix: str = LOCAL_PREFIX

    def env(self) -> dict[str, str]:
        """The environment every function gets, as CDK sets it on AWS (there STAGE is the
        deployed stage's name; here, and only here, it is "local")."""
        names = {spec.env_var: spec.physical_name(self.prefix) for spec in ALL_TABLES}
        names.update({
            "STAGE": LOCAL_STAGE,
            "EVENT_BUS_NAME": f"{self.prefix}-bus",
            "TOKEN_SECRET_ID": f"{self.prefix}/token-signing-key",
            **{secret.env_var: secret.physical_name(self.prefix) for secret in ALL_SECRETS},
            "PROVIDERS_SECRET_ID": f"{self.prefix}/login-providers",
            "MATERIALS_BUCKET": f"{self.prefix}-materials",
            "PII_KEY_ID": f"alias/{self.prefix}-pii",
            "PLAYBACK_KEY_SECRET_ID": f"{self.prefix}/playback-key",
            "PAYMENTS_SECRET_ID": f"{self.prefix}/payment-providers",
            "RECONNECT_WINDOW_SECONDS": "60",
            "EXPORTS_BUCKET": f"{self.prefix}-exports",
            "RECORDINGS_BUCKET": f"{self.prefix}-recordings",    # IVS auto-record (the IVS stand-in writes it)
            # public rooms' covers (rooms.public_covers); PUBLIC_COVERS_BASE_URL is the stack's own origin,
            # set by local.stack once the API listens (served there by local.public_covers, as /covers/* on AWS)
            "PUBLIC_COVERS_BUCKET": f"{self.prefix}-public-covers",
            # replay URLs carry /t/<token>/ (the local replay CDN checks them; on AWS once the edge
            # function is attached: docs/replays.md)
            "REPLAY_URL_TOKENS": "on",
            # FunctionSpec.puts_analytics_events: the store's events stream (the stand-in answers for it)
            "ANALYTICS_EVENTS_STREAM": f"{self.prefix}-analytics-events",
            "POWERTOOLS_METRICS_NAMESPACE": "LiveCommerce",
            "POWERTOOLS_TRACE_DISABLED": "true",
        })
        # Functions invoked by others (FunctionSpec.invokes), by the physical name CDK gives them.
        from livecommerce.manifest import FUNCTION_SPECS

        for callee in sorted({name for spec in FUNCTION_SPECS for name in spec.invokes}):
            names[f"{callee.upper()}_FUNCTION"] = f"{self.prefix}-{callee.replace('_', '-')}"
        return names


def delivery_queue_name(names: LocalNames, subscription: str) -> str:
    return f"{names.prefix}-deliver-{subscription}"


# On AWS one rule sends every domain event, whole, to the analytics events stream
# (cdk/stacks/analytics_stack.py); locally it targets this queue, which local.event_delivery.drain_to_store
# empties into the Firehose stand-in (whose events stream runs the same transformation).
STORE_RULE = "DomainEventsToStore"
STORE_PATTERN = {"source": ["livecommerce"]}


def table_kwargs(spec: TableSpec, name: str) -> dict:
    attrs = {spec.partition_key}
    keys = [{"AttributeName": spec.partition_key, "KeyType": "HASH"}]
    if spec.sort_key:
        attrs.add(spec.sort_key)
        keys.append({"AttributeName": spec.sort_key, "KeyType": "RANGE"})
    gsis = []
    for index in spec.indexes:
        attrs.add(index.partition_key)
        schema = [{"AttributeName": index.partition_key, "KeyType": "HASH"}]
        if index.sort_key:
            attrs.add(index.sort_key)
            schema.append({"AttributeName": index.sort_key, "KeyType": "RANGE"})
        gsis.append({"IndexName": index.name, "KeySchema": schema, "Projection": {"ProjectionType": "ALL"}})
    kwargs = {
        "TableName": name,
        "KeySchema": keys,
        "AttributeDefinitions": [{"AttributeName": a, "AttributeType": "S"} for a in sorted(attrs)],
        "BillingMode": "PAY_PER_REQUEST",
    }
    if gsis:
        kwargs["GlobalSecondaryIndexes"] = gsis
    if spec.stream:
        kwargs["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}
    return kwargs


def create_all(session, names: LocalNames, *, provider_credentials: dict[str, str] | None = None) -> None:
    """Idempotent: existing resources are left as they are."""
    env = names.env()
    ddb = session.client("dynamodb")
    existing = set(ddb.list_tables().get("TableNames", []))
    for spec in ALL_TABLES:
        name = env[spec.env_var]
        if name in existing:
            continue
        ddb.create_table(**table_kwargs(spec, name))
        if spec.ttl_attribute:
            ddb.update_time_to_live(TableName=name, TimeToLiveSpecification={
                "Enabled": True, "AttributeName": spec.ttl_attribute})

    events = session.client("events")
    bus = env["EVENT_BUS_NAME"]
    if bus not in {b["Name"] for b in events.list_event_buses()["EventBuses"]}:
        events.create_event_bus(Name=bus)
    sqs = session.client("sqs")
    for sub in SUBSCRIPTIONS:
        # On AWS the rule targets the function; locally it targets a queue that
        # local.event_delivery drains into the same function's handler.
        rule = f"{names.prefix}-{sub.name}"
        rule_bus = bus if sub.bus == "domain" else "default"
        events.put_rule(Name=rule, EventBusName=rule_bus, EventPattern=json.dumps(sub.pattern()),
                        State="ENABLED")
        queue_url = sqs.create_queue(QueueName=delivery_queue_name(names, sub.name))["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        events.put_targets(Rule=rule, EventBusName=rule_bus, Targets=[{"Id": sub.function, "Arn": arn}])
    store_rule = f"{names.prefix}-{STORE_RULE}"
    events.put_rule(Name=store_rule, EventBusName=bus, EventPattern=json.dumps(STORE_PATTERN), State="ENABLED")
    queue_url = sqs.create_queue(QueueName=delivery_queue_name(names, STORE_RULE))["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_targets(Rule=store_rule, EventBusName=bus, Targets=[{"Id": "AnalyticsEvents", "Arn": arn}])

    sm = session.client("secretsmanager")
    have = {s["Name"] for s in sm.list_secrets().get("SecretList", [])}
    if env["TOKEN_SECRET_ID"] not in have:
        sm.create_secret(Name=env["TOKEN_SECRET_ID"], SecretString=secrets.token_urlsafe(48))
    for secret in ALL_SECRETS:       # generated secrets (the cursor signing key), as the data stack makes them
        if env[secret.env_var] not in have:
            sm.create_secret(Name=env[secret.env_var], SecretString=secrets.token_urlsafe(secret.length)[:secret.length])
    if env["PROVIDERS_SECRET_ID"] not in have:
        sm.create_secret(Name=env["PROVIDERS_SECRET_ID"],
                         SecretString=json.dumps(provider_credentials or {}))
    elif provider_credentials is not None:
        sm.put_secret_value(SecretId=env["PROVIDERS_SECRET_ID"], SecretString=json.dumps(provider_credentials))

    if env["PLAYBACK_KEY_SECRET_ID"] not in have:
        from livecommerce.media.playback import generate_key_pair

        private_pem, public_pem = generate_key_pair()
        sm.create_secret(Name=env["PLAYBACK_KEY_SECRET_ID"], SecretString=json.dumps(
            {"private_key_pem": private_pem, "public_key_pem": public_pem, "key_pair_arn": None}))

    kms = session.client("kms")
    alias = env["PII_KEY_ID"]
    if alias not in {a["AliasName"] for a in kms.list_aliases().get("Aliases", [])}:
        key_id = kms.create_key(Description="PII (phone numbers)")["KeyMetadata"]["KeyId"]
        kms.create_alias(AliasName=alias, TargetKeyId=key_id)

    s3 = session.client("s3")
    have_buckets = {b["Name"] for b in s3.list_buckets().get("Buckets", [])}
    region = session.region_name
    for key in ("MATERIALS_BUCKET", "EXPORTS_BUCKET", "RECORDINGS_BUCKET", "PUBLIC_COVERS_BUCKET"):
        if env[key] not in have_buckets:
            if region == "us-east-1":
                s3.create_bucket(Bucket=env[key])
            else:
                s3.create_bucket(Bucket=env[key], CreateBucketConfiguration={"LocationConstraint": region})
    # The analytics events stream in the embedded AWS too (raw records to a bucket): functions that put to
    # it where no Firehose stand-in is served (the integration tests) get Firehose's answers, not an error.
    # The local stack points AWS_ENDPOINT_URL_FIREHOSE at its stand-in, which writes the Parquet store.
    firehose = session.client("firehose")
    stream = env["ANALYTICS_EVENTS_STREAM"]
    if stream not in firehose.list_delivery_streams(Limit=100).get("DeliveryStreamNames", []):
        raw = f"{names.prefix}-analytics-raw"
        if raw not in have_buckets:
            s3.create_bucket(Bucket=raw, **({} if region == "us-east-1" else
                                            {"CreateBucketConfiguration": {"LocationConstraint": region}}))
        firehose.create_delivery_stream(
            DeliveryStreamName=stream, DeliveryStreamType="DirectPut",
            ExtendedS3DestinationConfiguration={"RoleARN": "arn:aws:iam::123456789012:role/firehose",
                                                "BucketARN": f"arn:aws:s3:::{raw}", "Prefix": "events/"})
    # The recordings bucket sends its object events to EventBridge (the replay machine's S3 trigger).
    s3.put_bucket_notification_configuration(Bucket=env["RECORDINGS_BUCKET"],
                                             NotificationConfiguration={"EventBridgeConfiguration": {}})

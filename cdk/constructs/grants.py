"""Least-privilege IAM statements, written out instead of the L2 grant helpers:
those add wildcards (`<table>/index/*`, `kms:GenerateDataKey*`, `kms:ReEncrypt*`)
that we do not need and that cdk-nag would rightly flag. Here every table index
is named, every action is exact and KMS use is limited to the services that
call it on the function's behalf."""
from __future__ import annotations

from typing import Iterable

from aws_cdk import Aws
from aws_cdk import aws_iam as iam

from livecommerce.shared.spec import TableSpec

DYNAMODB_READ = (
    "dynamodb:DescribeTable",      # PynamoDB reads the key schema on first use
    "dynamodb:GetItem",
    "dynamodb:BatchGetItem",
    "dynamodb:Query",
    "dynamodb:ConditionCheckItem",
)
DYNAMODB_WRITE = (
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:BatchWriteItem",
)
KMS_DECRYPT = ("kms:Decrypt", "kms:DescribeKey")
KMS_ENCRYPT = ("kms:Encrypt", "kms:GenerateDataKey")


def table_statement(*, table_arn: str, spec: TableSpec, write: bool) -> iam.PolicyStatement:
    actions = DYNAMODB_READ + (DYNAMODB_WRITE if write else ())
    resources = [table_arn] + [f"{table_arn}/index/{index.name}" for index in spec.indexes]
    return iam.PolicyStatement(actions=list(actions), resources=resources)


def via_service(service: str) -> str:
    return f"{service}.{Aws.REGION}.amazonaws.com"


def kms_statement(*, key_arn: str, services: Iterable[str], encrypt: bool) -> iam.PolicyStatement:
    """Use of the data key, only through the given AWS services (kms:ViaService)."""
    actions = KMS_DECRYPT + (KMS_ENCRYPT if encrypt else ())
    return iam.PolicyStatement(
        actions=list(actions),
        resources=[key_arn],
        conditions={"StringEquals": {"kms:ViaService": sorted({via_service(s) for s in services})}},
    )


def secret_statement(*, secret_arns: Iterable[str]) -> iam.PolicyStatement:
    return iam.PolicyStatement(actions=["secretsmanager:GetSecretValue"], resources=list(secret_arns))


def put_events_statement(*, event_bus_arn: str) -> iam.PolicyStatement:
    return iam.PolicyStatement(actions=["events:PutEvents"], resources=[event_bus_arn])


def secret_write_statement(*, secret_arns: Iterable[str]) -> iam.PolicyStatement:
    """Read a secret and store a new value (a deploy-time generator)."""
    return iam.PolicyStatement(actions=["secretsmanager:GetSecretValue", "secretsmanager:PutSecretValue"],
                               resources=list(secret_arns))


def encryption_context_statement(*, key_arn: str, context_keys: Iterable[str]) -> iam.PolicyStatement:
    """kms:Encrypt and kms:Decrypt called directly on a key, only with an encryption
    context made of exactly `context_keys`, each present. A ciphertext is bound to
    its context, so one taken from another record does not decrypt."""
    keys = sorted(set(context_keys))
    if not keys:
        raise ValueError("an encryption context needs at least one key")
    return iam.PolicyStatement(
        actions=["kms:Encrypt", "kms:Decrypt"],
        resources=[key_arn],
        conditions={
            "ForAllValues:StringEquals": {"kms:EncryptionContextKeys": keys},
            "Null": {f"kms:EncryptionContext:{key}": "false" for key in keys},
        },
    )


def bucket_prefix_statements(*, bucket_arn: str, prefix: str) -> list[iam.PolicyStatement]:
    """Read and write objects under `prefix` (presigned POST uploads and GET
    downloads are signed with these permissions) and list only that prefix."""
    return [
        iam.PolicyStatement(actions=["s3:PutObject", "s3:GetObject"], resources=[f"{bucket_arn}/{prefix}*"]),
        iam.PolicyStatement(actions=["s3:ListBucket"], resources=[bucket_arn],
                            conditions={"StringLike": {"s3:prefix": [f"{prefix}*"]}}),
    ]


RECORDINGS_PREFIX = "ivs/v1/"   # IVS auto-record's layout


def recordings_statements(*, bucket_arn: str, write: bool) -> list[iam.PolicyStatement]:
    """Read (and, for `write`, put) objects of IVS's recording layout, and list only that prefix."""
    actions = ["s3:GetObject", "s3:PutObject"] if write else ["s3:GetObject"]
    return [
        iam.PolicyStatement(actions=actions, resources=[f"{bucket_arn}/{RECORDINGS_PREFIX}*"]),
        iam.PolicyStatement(actions=["s3:ListBucket"], resources=[bucket_arn],
                            conditions={"StringLike": {"s3:prefix": [f"{RECORDINGS_PREFIX}*"]}}),
    ]


# IVS low-latency actions -> the resource types each one is authorized on, as the
# AWS Service Authorization Reference lists them ("Actions, resources, and
# condition keys for Amazon Interactive Video Service"). Every action we call
# takes resource-level permissions, ListChannels and ListStreamKeys included
# (both on the channel). CreateChannel and DeleteChannel act on the channel and
# its stream key; CreateChannel with tags also needs TagResource.
IVS_ACTION_RESOURCES: dict[str, tuple[str, ...]] = {
    "CreateChannel": ("channel", "stream-key"),
    "DeleteChannel": ("channel", "stream-key"),
    "GetChannel": ("channel",),
    "ListChannels": ("channel",),
    "StopStream": ("channel",),
    # Any taggable type, none required; a function gets it only on the types it creates
    # (ivs_action_types).
    "TagResource": ("channel", "stream-key", "stage", "composition"),
    "CreateStreamKey": ("stream-key",),
    "DeleteStreamKey": ("stream-key",),
    "GetStreamKey": ("stream-key",),
    "ListStreamKeys": ("channel", "stream-key"),
    "PutMetadata": ("channel",),
    # IVS real-time (SDK client ivs-realtime, IAM prefix ivs): stages and compositions.
    "CreateStage": ("stage",),
    "GetStage": ("stage",),
    "DeleteStage": ("stage",),
    "CreateParticipantToken": ("stage",),
    "DisconnectParticipant": ("stage",),
    "StartParticipantReplication": ("stage",),   # both the source and the destination stage
    "StopParticipantReplication": ("stage",),
    # Required: Stage and Encoder-Configuration (the default one when the request names none);
    # optional: Channel (a channel destination, ours) and Storage-Configuration (an S3 destination:
    # we have none, so it is not granted).
    "StartComposition": ("channel", "encoder-configuration", "stage"),
    "StopComposition": ("composition",),
    "GetComposition": ("composition",),
}
TAG_RESOURCE_TYPES = IVS_ACTION_RESOURCES["TagResource"]
# Types whose resources we tag with the deployment stage at creation: their grants carry a tag
# condition (ivs_statements(tag=...)): aws:RequestTag on the calls that create or tag one,
# aws:ResourceTag on the rest, so a function of one deployment stage cannot touch another's.
TAG_SCOPED_TYPES = ("stage", "composition")
_TAGGING_ACTIONS = ("CreateStage", "TagResource")
# What each creating call makes (with our tags, so with ivs:TagResource on it).
_CREATES = {"CreateChannel": ("channel", "stream-key"), "CreateStreamKey": ("stream-key",),
            "CreateStage": ("stage",), "StartComposition": ("composition",)}


def ivs_action_types(action: str, actions: Iterable[str]) -> tuple[str, ...]:
    """The resource types `action` is granted on, for a function that calls `actions`."""
    if action == "TagResource":
        made = {t for other in actions for t in _CREATES.get(other, ())}
        return tuple(t for t in TAG_RESOURCE_TYPES if t in made)
    if action not in IVS_ACTION_RESOURCES:
        raise KeyError(f"ivs:{action}: add its resource types (AWS Service Authorization Reference) to "
                       "IVS_ACTION_RESOURCES first")
    return IVS_ACTION_RESOURCES[action]


def ivs_statements(*, actions: Iterable[str], resource_arns: dict[str, str],
                   tag: tuple[str, str] | None = None) -> list[iam.PolicyStatement]:
    """One statement per IVS resource type: each action only on the resource types
    it is authorized on. resource_arns: resource type -> ARN (pattern) to allow.
    tag (key, value): on TAG_SCOPED_TYPES, the creating/tagging actions need the request to
    carry the tag (aws:RequestTag) and the others need the resource to have it (aws:ResourceTag),
    one statement each."""
    actions = tuple(actions)
    by_type: dict[tuple[str, str], list[str]] = {}
    for action in actions:
        for resource_type in ivs_action_types(action, actions):
            scoped = tag is not None and resource_type in TAG_SCOPED_TYPES
            kind = "request" if scoped and action in _TAGGING_ACTIONS else "resource" if scoped else ""
            by_type.setdefault((resource_type, kind), []).append(f"ivs:{action}")
    statements = []
    for (resource_type, kind), found in sorted(by_type.items()):
        conditions = None
        if kind:
            key = "aws:RequestTag" if kind == "request" else "aws:ResourceTag"
            conditions = {"StringEquals": {f"{key}/{tag[0]}": tag[1]}}
        statements.append(iam.PolicyStatement(actions=sorted(set(found)), resources=[resource_arns[resource_type]],
                                              conditions=conditions))
    return statements


def iot_publish_statements(*, topic_arn: str) -> list[iam.PolicyStatement]:
    """Publish to the given topics (a pattern such as `topic/lc/<stage>/rooms/*`), with the RETAIN
    flag (iot:RetainPublish: the room's state/<kind> topics, interaction.room_state) and read a
    retained message back (iot:GetRetainedMessage), and look up the account's data endpoint
    (iot:DescribeEndpoint takes no resource: '*')."""
    return [
        iam.PolicyStatement(actions=["iot:GetRetainedMessage", "iot:Publish", "iot:RetainPublish"],
                            resources=[topic_arn]),
        iam.PolicyStatement(actions=["iot:DescribeEndpoint"], resources=["*"]),
    ]


# What a Lambda event source mapping needs from the function's role to read a
# DynamoDB stream (Lambda developer guide, "Execution role permissions").
DYNAMODB_STREAM_READ = (
    "dynamodb:DescribeStream",
    "dynamodb:GetRecords",
    "dynamodb:GetShardIterator",
    "dynamodb:ListStreams",
)


def stream_read_statement(*, stream_arn: str) -> iam.PolicyStatement:
    """Read one table's stream (the current stream's ARN, not `<table>/stream/*`)."""
    return iam.PolicyStatement(actions=list(DYNAMODB_STREAM_READ), resources=[stream_arn])


def invoke_statement(*, function_arns: Iterable[str]) -> iam.PolicyStatement:
    """Invoke exactly these functions (their unqualified ARNs: $LATEST)."""
    return iam.PolicyStatement(actions=["lambda:InvokeFunction"], resources=list(function_arns))

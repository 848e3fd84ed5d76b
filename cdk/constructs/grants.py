"""Least-privilege IAM statements, written out instead of the L2 grant helpers:
those add wildcards (`<table>/index/*`, `kms:GenerateDataKey*`, `kms:ReEncrypt*`)
that we do not need and that cdk-nag would rightly flag. Here every table index
is named, every action is exact and KMS use is limited to the services that
call it on the function's behalf."""
from __future__ import annotations

from typing import Iterable

from aws_cdk import Aws
from aws_cdk import aws_iam as iam

from livecommerce.shared.tables import TableSpec

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

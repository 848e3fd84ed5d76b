"""Unit tests of rooms' service: the tables in moto (the repositories are real), the bus and
clock as in-memory fakes (ports.use)."""
from __future__ import annotations

import os

import pytest

from livecommerce.manifest import ALL_TABLES
from livecommerce.shared import ports
from tests.fakes import FakeClock, InMemoryBus


def _create(client, spec, name: str) -> None:
    attrs = {spec.partition_key, *([spec.sort_key] if spec.sort_key else [])}
    keys = [{"AttributeName": spec.partition_key, "KeyType": "HASH"}]
    if spec.sort_key:
        keys.append({"AttributeName": spec.sort_key, "KeyType": "RANGE"})
    gsis = []
    for index in spec.indexes:
        attrs.update({index.partition_key, *([index.sort_key] if index.sort_key else [])})
        schema = [{"AttributeName": index.partition_key, "KeyType": "HASH"}]
        if index.sort_key:
            schema.append({"AttributeName": index.sort_key, "KeyType": "RANGE"})
        gsis.append({"IndexName": index.name, "Projection": {"ProjectionType": "ALL"}, "KeySchema": schema})
    client.create_table(TableName=name, KeySchema=keys, BillingMode="PAY_PER_REQUEST",
                        AttributeDefinitions=[{"AttributeName": a, "AttributeType": "S"} for a in sorted(attrs)],
                        **({"GlobalSecondaryIndexes": gsis} if gsis else {}))


@pytest.fixture
def tables():
    import boto3
    from moto import mock_aws

    from livecommerce.shared import aws, settings

    with mock_aws():
        settings.reset_settings()
        aws.reset_clients()
        client = boto3.client("dynamodb")
        for spec in ALL_TABLES:
            _create(client, spec, os.environ[spec.env_var])
        yield
    settings.reset_settings()
    aws.reset_clients()


@pytest.fixture
def bus():
    return InMemoryBus()


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture
def fakes(tables, bus, clock):
    with ports.use(bus=bus, clock=clock, realtime=object()):
        yield bus

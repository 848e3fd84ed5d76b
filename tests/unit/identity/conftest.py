"""Unit tests of identity's service: the identity table in moto (the repository is real),
the bus and clock as in-memory fakes (ports.use)."""
from __future__ import annotations

import pytest

from livecommerce.identity.spec import IDENTITY
from livecommerce.shared import ports
from tests.fakes import FakeClock, InMemoryBus


def _create(client, spec, name: str) -> None:
    attrs = {spec.partition_key, *([spec.sort_key] if spec.sort_key else [])}
    keys = [{"AttributeName": spec.partition_key, "KeyType": "HASH"}]
    if spec.sort_key:
        keys.append({"AttributeName": spec.sort_key, "KeyType": "RANGE"})
    gsis = []
    for index in spec.indexes:
        attrs.update({index.partition_key, index.sort_key})
        gsis.append({"IndexName": index.name, "Projection": {"ProjectionType": "ALL"},
                     "KeySchema": [{"AttributeName": index.partition_key, "KeyType": "HASH"},
                                   {"AttributeName": index.sort_key, "KeyType": "RANGE"}]})
    client.create_table(TableName=name, KeySchema=keys, BillingMode="PAY_PER_REQUEST",
                        AttributeDefinitions=[{"AttributeName": a, "AttributeType": "S"} for a in sorted(attrs)],
                        **({"GlobalSecondaryIndexes": gsis} if gsis else {}))


@pytest.fixture
def identity_table(monkeypatch):
    import boto3
    from moto import mock_aws

    from livecommerce.shared import aws, settings

    with mock_aws():
        settings.reset_settings()
        aws.reset_clients()
        _create(boto3.client("dynamodb"), IDENTITY, "unit-identity")
        monkeypatch.setenv(IDENTITY.env_var, "unit-identity")
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
def fakes(identity_table, bus, clock):
    with ports.use(bus=bus, clock=clock, realtime=object()):
        yield bus

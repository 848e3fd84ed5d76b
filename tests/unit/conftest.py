"""Unit-tier fixtures shared by the contexts: the platform ports as in-memory fakes
(`fakes` puts them in place with ports.use), and DynamoDB tables in in-process moto
for services whose repository is real (made from the table specs, as the local stack makes them)."""
from __future__ import annotations

import os

import pytest

from livecommerce.shared import ports
from local.resources import table_kwargs
from tests.fakes import FakeClock, InMemoryBus


@pytest.fixture
def bus() -> InMemoryBus:
    return InMemoryBus()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def moto_tables():
    """A function that creates the given table specs in in-process moto (named by their env vars)."""
    import boto3
    from moto import mock_aws

    from livecommerce.shared import aws, settings

    with mock_aws():
        settings.reset_settings()
        aws.reset_clients()
        client = boto3.client("dynamodb")

        def create(*specs) -> None:
            for spec in specs:
                client.create_table(**table_kwargs(spec, os.environ[spec.env_var]))

        yield create
    settings.reset_settings()
    aws.reset_clients()

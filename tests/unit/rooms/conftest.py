"""Unit tests of rooms' service: the tables in moto (the repositories are real), the bus and
clock as in-memory fakes (ports.use; `bus` and `clock` come from tests/unit/conftest.py)."""
from __future__ import annotations

import pytest

from livecommerce.manifest import ALL_TABLES
from livecommerce.shared import ports


@pytest.fixture
def tables(moto_tables):
    moto_tables(*ALL_TABLES)


@pytest.fixture
def fakes(tables, bus, clock):
    with ports.use(bus=bus, clock=clock, realtime=object()):
        yield bus

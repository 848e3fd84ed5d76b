"""Unit tests of identity's service: the identity table in moto (the repository is real),
the bus and clock as in-memory fakes (ports.use; `bus` and `clock` come from tests/unit/conftest.py)."""
from __future__ import annotations

import pytest

from livecommerce.identity.spec import IDENTITY
from livecommerce.shared import ports


@pytest.fixture
def identity_table(moto_tables):
    moto_tables(IDENTITY)


@pytest.fixture
def fakes(identity_table, bus, clock):
    with ports.use(bus=bus, clock=clock, realtime=object()):
        yield bus

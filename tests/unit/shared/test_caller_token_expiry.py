"""The handler side of "tokens end when they say": caller_from_event checks the
`token_expires_at` the authorizer put in the (possibly cached) context against the
platform clock. API Gateway hands context values to the function as strings."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from livecommerce.shared import ports, problems
from livecommerce.shared.api import caller_from_event
from tests.fakes import FakeClock

NOW = datetime(2026, 12, 5, 12, 0, tzinfo=timezone.utc)


def _event(**context) -> dict:
    return {"requestContext": {"authorizer": {"principalId": "viewer-1", "user_id": "viewer-1",
                                              "roles": "viewer", **context}}}


@pytest.mark.parametrize("expires_at", [NOW.timestamp() + 1, str(int(NOW.timestamp()) + 1), NOW.timestamp() + 7200])
def test_a_token_before_its_end_is_the_caller(expires_at):
    with ports.use(clock=FakeClock(NOW)):
        caller = caller_from_event(_event(token_expires_at=expires_at))
    assert caller is not None and caller.user_id == "viewer-1" and caller.roles == frozenset({"viewer"})


@pytest.mark.parametrize("expires_at", [NOW.timestamp(), NOW.timestamp() - 1, str(int(NOW.timestamp()) - 300)])
def test_a_token_at_or_past_its_end_is_401_token_expired(expires_at):
    with ports.use(clock=FakeClock(NOW)), pytest.raises(problems.Unauthorized) as info:
        caller_from_event(_event(token_expires_at=expires_at))
    assert info.value.status == 401 and info.value.code == "token_expired"


@pytest.mark.parametrize("expires_at", ["soon", "nan", "inf", [], {}])
def test_an_unreadable_expiry_is_401(expires_at):
    with ports.use(clock=FakeClock(NOW)), pytest.raises(problems.Unauthorized) as info:
        caller_from_event(_event(token_expires_at=expires_at))
    assert info.value.code == "unauthorized"


def test_no_authorizer_context_is_no_caller():
    assert caller_from_event({"requestContext": {}}) is None
    assert caller_from_event({}) is None

"""The bus adapter's batches: one PutEvents per 10 events (and 256 KB), the answer read per entry
(botocore's Stubber checks each call against the EventBridge service model)."""
from __future__ import annotations

import json

import boto3
import pytest
from botocore.stub import Stubber

from livecommerce.shared import aws, eventbridge_bus
from livecommerce.shared.eventbridge_bus import EventBridgeBus, EventPublishError, batches


@pytest.fixture
def stubbed(monkeypatch):
    client = boto3.client("events", region_name="ap-northeast-1", aws_access_key_id="x", aws_secret_access_key="y")
    monkeypatch.setattr(aws, "client", lambda service: client)
    with Stubber(client) as stub:
        yield stub
        stub.assert_no_pending_responses()


def _answer(*errors: str | None) -> dict:
    return {"FailedEntryCount": sum(1 for e in errors if e),
            "Entries": [{"ErrorCode": e, "ErrorMessage": "no"} if e else {"EventId": f"e{i}"}
                        for i, e in enumerate(errors)]}


def test_twelve_events_are_two_calls_in_order_and_a_refused_entry_is_reported(stubbed):
    events = [(f"Kind{i}", {"n": i}) for i in range(12)]
    sent: list[list[dict]] = []
    stubbed.add_response("put_events", _answer(*([None] * 10)))
    stubbed.add_response("put_events", _answer(None, "InternalFailure"))
    client = stubbed.client
    client.meta.events.register("provide-client-params.events.PutEvents",
                                lambda params, **kw: sent.append(params["Entries"]))
    taken = EventBridgeBus().put_many(events)
    assert taken == [True] * 11 + [False]
    assert [len(batch) for batch in sent] == [10, 2]
    assert [json.loads(e["Detail"])["n"] for batch in sent for e in batch] == list(range(12))
    assert {e["DetailType"] for e in sent[1]} == {"Kind10", "Kind11"}


def test_a_failed_first_call_raises_and_a_failed_later_call_keeps_its_events(stubbed):
    stubbed.add_client_error("put_events", "InternalException", http_status_code=500)
    with pytest.raises(Exception):
        EventBridgeBus().put_many([("A", {})])
    stubbed.add_response("put_events", _answer(*([None] * 10)))
    stubbed.add_client_error("put_events", "InternalException", http_status_code=500)
    assert EventBridgeBus().put_many([("A", {"i": i}) for i in range(13)]) == [True] * 10 + [False] * 3


def test_an_answer_without_one_result_per_entry_is_an_error(stubbed):
    stubbed.add_response("put_events", {"FailedEntryCount": 0, "Entries": [{"EventId": "1"}]})
    with pytest.raises(EventPublishError):
        EventBridgeBus().put_many([("A", {}), ("B", {})])


def test_batches_respect_the_256_kb_call_limit():
    big = {"Source": "s", "DetailType": "d", "Detail": "x" * 100_000}
    small = {"Source": "s", "DetailType": "d", "Detail": "{}"}
    assert [len(b) for b in batches([big, big, big, small])] == [2, 2]
    assert [len(b) for b in batches([small] * 25)] == [10, 10, 5]
    assert batches([]) == []
    assert eventbridge_bus.MAX_ENTRIES == 10

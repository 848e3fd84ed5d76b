"""The embedded AWS (local.embedded_aws.make_app, moto's server app in this process) hands its one lock
to a caller on behalf of an API request (X-Local-Priority: api) before an earlier background caller,
still runs one request at a time, and journals in the order requests ran, so a restart replays the
same state; GET /__local/priority reports the lock's figures."""
from __future__ import annotations

import io
import json
import threading

import pytest

from tests.polling import poll

pytestmark = pytest.mark.integration

AUTH = ("AWS4-HMAC-SHA256 Credential=local/20240101/us-east-1/dynamodb/aws4_request, "
        "SignedHeaders=host;x-amz-date, Signature=0")


def _call(app, operation: str, body: dict, *, api: bool = False) -> tuple[str, dict]:
    raw = json.dumps(body).encode()
    environ = {
        "REQUEST_METHOD": "POST", "PATH_INFO": "/", "QUERY_STRING": "", "SCRIPT_NAME": "",
        "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "4566", "SERVER_PROTOCOL": "HTTP/1.1",
        "CONTENT_TYPE": "application/x-amz-json-1.0", "CONTENT_LENGTH": str(len(raw)),
        "HTTP_HOST": "127.0.0.1:4566", "HTTP_X_AMZ_TARGET": f"DynamoDB_20120810.{operation}",
        "HTTP_AUTHORIZATION": AUTH, "HTTP_X_AMZ_DATE": "20240101T000000Z",
        "wsgi.input": io.BytesIO(raw), "wsgi.errors": io.StringIO(), "wsgi.url_scheme": "http",
        "wsgi.version": (1, 0), "wsgi.multithread": True, "wsgi.multiprocess": False, "wsgi.run_once": False,
    }
    if api:
        environ["HTTP_X_LOCAL_PRIORITY"] = "api"
    seen: dict = {}

    def start_response(status, headers, exc_info=None):
        seen["status"] = status
        return lambda data: None

    payload = b"".join(app(environ, start_response))
    return seen["status"], json.loads(payload or b"{}")


def test_an_api_caller_goes_before_an_earlier_background_one_and_the_journal_keeps_the_order_they_ran(
        tmp_path, monkeypatch):
    from local import embedded_aws
    from local.embedded_aws import StateFolder, make_app

    state = StateFolder(tmp_path)
    serialized, raw = make_app(state)
    table = "priority-orders"
    status, _ = _call(serialized, "CreateTable", {
        "TableName": table, "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}]})
    assert status.startswith("200")

    ran: list[str] = []
    lock = embedded_aws._lock
    # Aging (1 s) is tested on the lock alone (tests/unit/local/test_aws_priority.py); here it would let
    # the background caller go first whenever a loaded machine takes a second to start the API one.
    monkeypatch.setattr(lock, "aging_seconds", 60.0)
    before = lock.stats()

    def put(who: str, api: bool) -> None:
        status, _ = _call(serialized, "PutItem", {"TableName": table,
                                                  "Item": {"pk": {"S": "one"}, "by": {"S": who}}}, api=api)
        ran.append((who, status[:3]))

    lock.acquire("background")   # the embedded AWS is busy with another request
    try:
        background = threading.Thread(target=put, args=("background", False))
        background.start()
        assert poll(lambda: lock.waiting()["background"] == 1, 10)
        api = threading.Thread(target=put, args=("api", True))
        api.start()
        assert poll(lambda: lock.waiting()["api"] == 1, 10)
        assert ran == []   # one request at a time: both wait
    finally:
        lock.release()
    api.join(10)
    background.join(10)
    assert ran == [("api", "200"), ("background", "200")]   # the API first, though it came later
    status, item = _call(serialized, "GetItem", {"TableName": table, "Key": {"pk": {"S": "one"}}})
    assert item["Item"]["by"]["S"] == "background"   # the later write (in execution order) wins

    # the journal holds the writes in the order they ran: a restart replays the same state
    _call(raw, "DeleteTable", {"TableName": table})   # forgotten without journalling (the raw app)
    loaded, replayed = StateFolder(tmp_path).restore(raw)
    assert (loaded, replayed) == (False, 3)
    status, item = _call(raw, "GetItem", {"TableName": table, "Key": {"pk": {"S": "one"}}})
    assert item["Item"]["by"]["S"] == "background"

    answer: dict = {}
    body = b"".join(serialized({"REQUEST_METHOD": "GET", "PATH_INFO": "/__local/priority"},
                               lambda status, headers, exc_info=None: answer.update(status=status)))
    figures = json.loads(body)
    assert answer["status"].startswith("200")
    assert figures["api"]["acquired"] - before["api"]["acquired"] == 1
    assert figures["api"]["waited"] - before["api"]["waited"] == 1
    assert figures["background"]["waited"] - before["background"]["waited"] == 1
    assert figures["aging_seconds"] == lock.aging_seconds

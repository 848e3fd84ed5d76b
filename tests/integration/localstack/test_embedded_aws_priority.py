"""The embedded AWS's server (local.embedded_aws.make_server over moto's app, in this process) runs a
call made on behalf of an API request (X-Local-Priority: api) before an earlier background call
waiting with it, one call at a time, and journals the writes in the order they ran, so a restart
replays the same state; GET /__local/priority reports the turns' figures."""
from __future__ import annotations

import asyncio
import io
import json
import urllib.request

import pytest

pytestmark = pytest.mark.integration

AUTH = ("AWS4-HMAC-SHA256 Credential=local/20240101/us-east-1/dynamodb/aws4_request, "
        "SignedHeaders=host;x-amz-date, Signature=0")


def _environ(operation: str, body: bytes, *, api: bool = False) -> dict:
    environ = {
        "REQUEST_METHOD": "POST", "PATH_INFO": "/", "QUERY_STRING": "", "SCRIPT_NAME": "",
        "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "4566", "SERVER_PROTOCOL": "HTTP/1.1",
        "CONTENT_TYPE": "application/x-amz-json-1.0", "CONTENT_LENGTH": str(len(body)),
        "HTTP_HOST": "127.0.0.1:4566", "HTTP_X_AMZ_TARGET": f"DynamoDB_20120810.{operation}",
        "HTTP_AUTHORIZATION": AUTH, "HTTP_X_AMZ_DATE": "20240101T000000Z",
        "wsgi.errors": io.StringIO(), "wsgi.url_scheme": "http", "wsgi.version": (1, 0),
        "wsgi.multithread": False, "wsgi.multiprocess": False, "wsgi.run_once": False,
    }
    if api:
        environ["HTTP_X_LOCAL_PRIORITY"] = "api"
    return environ


def _call_raw(app, operation: str, body: dict) -> tuple[str, dict]:
    raw = json.dumps(body).encode()
    seen: dict = {}
    payload = b"".join(app({**_environ(operation, raw), "wsgi.input": io.BytesIO(raw)},
                           lambda status, headers, exc_info=None: seen.update(status=status)))
    return seen["status"], json.loads(payload or b"{}")


def test_an_api_call_runs_before_an_earlier_background_one_and_the_journal_keeps_the_order_they_ran(tmp_path):
    from local.embedded_aws import StateFolder, make_server, moto_app

    state = StateFolder(tmp_path)
    app = moto_app()
    server = make_server("127.0.0.1", 0, state, app)
    server.start()
    table = "priority-orders"

    def answer(operation: str, body: dict, *, api: bool = False):
        raw = json.dumps(body).encode()
        return server.answer(_environ(operation, raw, api=api), raw)

    async def both_at_once() -> list[str]:
        # queued in the same turn of the loop: the background call first, the API call after it
        ran: list[str] = []

        async def put(who: str, api: bool) -> None:
            status, _, _ = await answer("PutItem", {"TableName": table, "Item": {"pk": {"S": "one"}, "by": {"S": who}}},
                                        api=api)
            ran.append(f"{who} {status[:3]}")

        await asyncio.gather(put("background", False), put("api", True))
        return ran

    try:
        status, _, _ = asyncio.run_coroutine_threadsafe(answer("CreateTable", {
            "TableName": table, "BillingMode": "PAY_PER_REQUEST",
            "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
            "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}]}), server._loop).result(30)
        assert status.startswith("200")
        before = server.turns.stats()
        ran = asyncio.run_coroutine_threadsafe(both_at_once(), server._loop).result(30)
        assert ran == ["api 200", "background 200"]   # the API first, though it came later
        status, item = _call_raw(app, "GetItem", {"TableName": table, "Key": {"pk": {"S": "one"}}})
        assert item["Item"]["by"]["S"] == "background"   # the later write (in execution order) wins

        with urllib.request.urlopen(server.url + "/__local/priority", timeout=10) as reply:
            figures = json.loads(reply.read())
        assert figures["api"]["acquired"] - before["api"]["acquired"] == 1
        assert figures["background"]["acquired"] - before["background"]["acquired"] == 1
        assert figures["aging_seconds"] == server.turns.aging_seconds
    finally:
        server.stop()

    # the journal holds the writes in the order they ran: a restart replays the same state
    _call_raw(app, "DeleteTable", {"TableName": table})   # forgotten without journalling (the raw app)
    loaded, replayed = StateFolder(tmp_path).restore(app)
    assert (loaded, replayed) == (False, 3)
    status, item = _call_raw(app, "GetItem", {"TableName": table, "Key": {"pk": {"S": "one"}}})
    assert item["Item"]["by"]["S"] == "background"

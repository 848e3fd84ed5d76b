"""The local Lambda Invoke API speaks what boto3's `lambda` client sends: the
calling code is the same as on AWS."""
from __future__ import annotations

import json
import threading

import boto3
import pytest
from botocore.exceptions import ClientError

from local.lambda_api import LocalLambdaApi, folder_for

pytestmark = pytest.mark.integration


@pytest.fixture
def api_and_client():
    calls: list[tuple[str, dict]] = []
    done = threading.Event()

    def invoke(folder: str, event: dict):
        calls.append((folder, event))
        done.set()
        if event.get("fail"):
            raise ValueError("bad input")
        return {"echo": event, "folder": folder}

    with LocalLambdaApi(invoke=invoke, prefix="livecommerce-local") as api:
        client = boto3.session.Session(aws_access_key_id="x", aws_secret_access_key="x", region_name="ap-northeast-1"
                                       ).client("lambda", endpoint_url=api.url)
        yield api, client, calls, done


def test_names_physical_names_and_arns_map_to_function_folders():
    assert folder_for("realtime_batcher", "livecommerce-local") == "realtime_batcher"
    assert folder_for("livecommerce-local-realtime-batcher", "livecommerce-local") == "realtime_batcher"
    assert folder_for("arn:aws:lambda:ap-northeast-1:123456789012:function:livecommerce-local-realtime-batcher",
                      "livecommerce-local") == "realtime_batcher"
    assert folder_for("livecommerce-local-nothing-here", "livecommerce-local") is None
    assert folder_for("../../etc", "livecommerce-local") is None


def test_request_response_event_and_dry_run(api_and_client):
    api, client, calls, done = api_and_client
    answer = client.invoke(FunctionName="livecommerce-local-realtime-batcher", Payload=json.dumps({"a": 1}))
    assert answer["StatusCode"] == 200 and "FunctionError" not in answer
    assert json.loads(answer["Payload"].read()) == {"echo": {"a": 1}, "folder": "realtime_batcher"}

    done.clear()
    queued = client.invoke(FunctionName="realtime_batcher", InvocationType="Event", Payload=b'{"b": 2}')
    assert queued["StatusCode"] == 202
    assert done.wait(15) and calls[-1] == ("realtime_batcher", {"b": 2})

    assert client.invoke(FunctionName="realtime_batcher", InvocationType="DryRun")["StatusCode"] == 204
    assert len(calls) == 2


def test_errors_are_reported_as_lambda_reports_them(api_and_client):
    api, client, calls, done = api_and_client
    failed = client.invoke(FunctionName="realtime_batcher", Payload=json.dumps({"fail": True}))
    assert failed["FunctionError"] == "Unhandled"
    assert json.loads(failed["Payload"].read())["errorType"] == "ValueError"
    with pytest.raises(ClientError) as missing:
        client.invoke(FunctionName="no-such-function", InvocationType="Event", Payload=b"{}")
    assert missing.value.response["Error"]["Code"] == "ResourceNotFoundException"
    with pytest.raises(ClientError) as garbled:
        client.invoke(FunctionName="realtime_batcher", Payload=b"{not json")
    assert garbled.value.response["Error"]["Code"] == "InvalidRequestContentException"

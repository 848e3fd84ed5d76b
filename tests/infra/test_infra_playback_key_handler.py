"""The playback key custom resource (cdk/assets/playback_key/handler.py) against
moto's Secrets Manager: generates once, keeps the key on updates and repeats,
records the key pair ARN, and always answers CloudFormation."""
from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from livecommerce.media import playback

pytestmark = pytest.mark.infra

HANDLER = Path(__file__).resolve().parents[2] / "cdk" / "assets" / "playback_key" / "handler.py"
SECRET = "livecommerce-test/playback-key"
KEY_PAIR_ARN = "arn:aws:ivs:ap-northeast-1:123456789012:playback-key/abcdABCDefgh"


@pytest.fixture
def handler(monkeypatch):
    spec = importlib.util.spec_from_file_location("playback_key_handler", HANDLER)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    with mock_aws():
        client = boto3.client("secretsmanager", region_name="ap-northeast-1")
        # What CloudFormation creates: a random placeholder.
        client.create_secret(Name=SECRET, SecretString="x7#kP2!randomPlaceholder")
        monkeypatch.setattr(module, "_secrets", client)
        yield module


def _event(resource_type: str, request: str = "Create", **props) -> dict:
    event = {"RequestType": request, "ResourceType": resource_type, "LogicalResourceId": "Res",
             "StackId": "arn:aws:cloudformation:ap-northeast-1:123456789012:stack/s/1", "RequestId": "r-1",
             "ResponseURL": "https://example.invalid/response", "ResourceProperties": {"SecretId": SECRET, **props}}
    if request != "Create":
        event["PhysicalResourceId"] = f"{SECRET}|{resource_type}"
    return event


def _secret(module) -> dict:
    return json.loads(module._secrets.get_secret_value(SecretId=SECRET)["SecretString"])


def test_create_stores_a_p384_pair_and_returns_only_the_public_key(handler):
    physical_id, data = handler.on_event(_event(handler.MATERIAL))
    stored = _secret(handler)
    assert set(stored) == {"private_key_pem", "public_key_pem", "key_pair_arn"}
    assert data == {"PublicKeyPem": stored["public_key_pem"]}
    assert "PRIVATE" not in json.dumps(data)
    # The pair works for IVS tokens (ES384): sign with the private half, verify with the public one.
    token, _exp = playback.sign_playback_token("arn:aws:ivs:ap-northeast-1:1:channel/abc", "viewer-1",
                                               private_key_pem=stored["private_key_pem"])
    playback.verify_playback_token(token, data["PublicKeyPem"], channel_arn="arn:aws:ivs:ap-northeast-1:1:channel/abc")
    assert physical_id == f"{SECRET}|{handler.MATERIAL}"


def test_updates_and_repeated_creates_keep_the_key(handler):
    _id, first = handler.on_event(_event(handler.MATERIAL))
    private = _secret(handler)["private_key_pem"]
    versions = len(handler._secrets.list_secret_version_ids(SecretId=SECRET)["Versions"])
    for request in ("Update", "Create", "Update"):
        _id, again = handler.on_event(_event(handler.MATERIAL, request))
        assert again == first
    assert _secret(handler)["private_key_pem"] == private
    assert len(handler._secrets.list_secret_version_ids(SecretId=SECRET)["Versions"]) == versions


def test_a_secret_that_is_not_a_p384_pair_is_replaced(handler):
    handler._secrets.put_secret_value(SecretId=SECRET, SecretString=json.dumps(
        {"private_key_pem": "-----BEGIN PRIVATE KEY-----\nnope\n-----END PRIVATE KEY-----\n"}))
    _id, data = handler.on_event(_event(handler.MATERIAL, "Update"))
    assert handler.public_pem_of(_secret(handler)["private_key_pem"]) == data["PublicKeyPem"]


def test_key_pair_arn_is_recorded_once(handler):
    handler.on_event(_event(handler.MATERIAL))
    private = _secret(handler)["private_key_pem"]
    _id, data = handler.on_event(_event(handler.KEY_PAIR_ARN, KeyPairArn=KEY_PAIR_ARN))
    assert data == {"KeyPairArn": KEY_PAIR_ARN}
    assert _secret(handler)["key_pair_arn"] == KEY_PAIR_ARN
    assert _secret(handler)["private_key_pem"] == private
    versions = len(handler._secrets.list_secret_version_ids(SecretId=SECRET)["Versions"])
    handler.on_event(_event(handler.KEY_PAIR_ARN, "Update", KeyPairArn=KEY_PAIR_ARN))
    assert len(handler._secrets.list_secret_version_ids(SecretId=SECRET)["Versions"]) == versions


def test_delete_touches_nothing(handler):
    handler.on_event(_event(handler.MATERIAL))
    before = _secret(handler)
    for resource_type in (handler.MATERIAL, handler.KEY_PAIR_ARN):
        physical_id, data = handler.on_event(_event(resource_type, "Delete"))
        assert data == {} and physical_id == f"{SECRET}|{resource_type}"
    assert _secret(handler) == before


def test_every_request_gets_an_answer(handler, monkeypatch):
    sent = []
    monkeypatch.setattr(handler, "send_response",
                        lambda event, context, status, **kw: sent.append((status, kw)))
    handler.handler(_event(handler.KEY_PAIR_ARN, KeyPairArn=KEY_PAIR_ARN), None)   # no key pair yet
    handler.handler(_event(handler.MATERIAL), None)
    (failed, failure), (ok, success) = sent
    assert failed == "FAILED" and "PlaybackKeyMaterial must run first" in failure["reason"]
    assert ok == "SUCCESS" and set(success["data"]) == {"PublicKeyPem"}


def test_response_format(handler, monkeypatch):
    captured = {}

    class _Response:
        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def read(self):
            return b""

    def fake_urlopen(request, timeout):
        captured.update(url=request.full_url, method=request.get_method(), body=json.loads(request.data))
        return _Response()

    monkeypatch.setattr(handler.urllib.request, "urlopen", fake_urlopen)
    event = _event(handler.MATERIAL)
    handler.send_response(event, None, "SUCCESS", physical_id="pid", data={"PublicKeyPem": "pem"})
    assert captured["method"] == "PUT" and captured["url"] == event["ResponseURL"]
    assert captured["body"] == {"Status": "SUCCESS", "Reason": captured["body"]["Reason"], "PhysicalResourceId": "pid",
                                "StackId": event["StackId"], "RequestId": "r-1", "LogicalResourceId": "Res",
                                "Data": {"PublicKeyPem": "pem"}}

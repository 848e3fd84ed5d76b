"""Malformed request bodies are the client's fault: 400 `malformed_body` (or `malformed_json`) or
415 `unsupported_media_type`, as problem+json, decided by the platform's pre-check before the
resolver (and so any handler code) runs, and logged at WARNING without a traceback.

Every case here answered 500 with a stack trace in the log before the pre-check learned them
(issue 10, outcome 2). They go through the API Gateway emulation to the real handlers."""
from __future__ import annotations

import base64
import json
import logging

import pytest
from aws_lambda_powertools.event_handler import APIGatewayRestResolver

from tests.integration.log_capture import logs  # noqa: F401 - fixture

pytestmark = pytest.mark.integration

LOGIN = "/v1/auth/login"
ROOMS = "/v1/rooms"


def _nested(depth: int) -> str:
    return '{"provider": "dev", "code": ' + "[" * depth + "]" * depth + "}"


def _nested_objects(depth: int) -> str:
    return '{"provider": "dev", "code": ' + '{"a": ' * depth + "1" + "}" * depth + "}"


LOGIN_JSON = json.dumps({"provider": "dev", "code": "viewer-1 中文"}, ensure_ascii=False)

# name -> (body, extra headers, status, code)
CASES: dict[str, tuple[bytes | str, dict[str, str], int, str]] = {
    "nested_1000_arrays": (_nested(1000), {}, 400, "malformed_body"),
    "nested_1000_objects": (_nested_objects(1000), {}, 400, "malformed_body"),
    "nested_65": (_nested(65), {}, 400, "malformed_body"),
    "int_5000_digits": ('{"provider": "dev", "code": ' + "7" * 5000 + "}", {}, 400, "malformed_body"),
    "negative_int_31_digits": ('{"provider": "dev", "code": -' + "7" * 31 + "}", {}, 400, "malformed_body"),
    "invalid_utf8": (b'{"provider": "dev", "code": "\xff\xfe\xc3"}', {}, 400, "malformed_body"),
    "overlong_utf8": (b'{"provider": "dev", "code": "\xc0\xaf"}', {}, 400, "malformed_body"),
    "utf16_with_bom": (LOGIN_JSON.encode("utf-16"), {}, 400, "malformed_body"),
    "utf16le_without_bom": (LOGIN_JSON.encode("utf-16-le"), {}, 400, "malformed_body"),
    "utf16be_without_bom": (LOGIN_JSON.encode("utf-16-be"), {}, 400, "malformed_body"),
    "utf16le_ascii_without_bom": (json.dumps({"provider": "dev", "code": "x"}).encode("utf-16-le"), {},
                                  400, "malformed_body"),
    "utf8_with_bom": (b"\xef\xbb\xbf" + LOGIN_JSON.encode(), {}, 400, "malformed_body"),
    "x_jsonish": (LOGIN_JSON, {"Content-Type": "application/x-jsonish"}, 415, "unsupported_media_type"),
    "json_as_utf16_charset": (LOGIN_JSON.encode("utf-16"), {"Content-Type": "application/json; charset=utf-16"},
                              415, "unsupported_media_type"),
    "form_on_json_route": ("provider=dev&code=x", {"Content-Type": "application/x-www-form-urlencoded"},
                           415, "unsupported_media_type"),
    "nan": ('{"provider": "dev", "code": NaN}', {}, 400, "malformed_json"),
    "not_json": ("{not json", {}, 400, "malformed_json"),
}


@pytest.fixture
def resolver_calls(monkeypatch):
    """Every call into the Powertools resolver (routing, validation, the handlers)."""
    calls: list[str] = []
    original = APIGatewayRestResolver.resolve

    def spy(self, event, context):
        calls.append(f"{event.get('httpMethod')} {event.get('path')}")
        return original(self, event, context)

    monkeypatch.setattr(APIGatewayRestResolver, "resolve", spy)
    return calls


def _assert_rejected_quietly(response, status, code, logs, resolver_calls):
    assert response.status == status, response.body
    assert response.headers.get("Content-Type") == "application/problem+json"
    body = response.json()
    assert body["code"] == code and body["status"] == status and body["type"].endswith("/" + code)
    assert "Traceback" not in response.body and "Error" not in body["detail"]
    assert resolver_calls == [], "the pre-check must answer before the resolver runs"
    warnings = [r for r in logs.at(logging.WARNING) if getattr(r, "reason", None) == code]
    assert warnings, logs.text()
    assert logs.with_traceback() == [], logs.text()
    assert [r for r in logs.records if r.levelno >= logging.ERROR] == [], logs.text()


@pytest.mark.parametrize("case", sorted(CASES))
def test_malformed_bodies_on_a_public_json_route(api, aws_env, logs, resolver_calls, case):
    body, headers, status, code = CASES[case]
    response = api.call("POST", LOGIN, raw_body=body, headers=headers)
    _assert_rejected_quietly(response, status, code, logs, resolver_calls)


@pytest.mark.parametrize("case", ["nested_1000_arrays", "int_5000_digits", "invalid_utf8", "utf16_with_bom",
                                  "utf16le_without_bom", "x_jsonish"])
def test_malformed_bodies_on_a_token_route(api, tokens_for, logs, resolver_calls, case):
    body, headers, status, code = CASES[case]
    token = tokens_for("host-1")
    resolver_calls.clear()
    logs.clear()
    response = api.call("POST", ROOMS, raw_body=body, token=token, headers=headers)
    _assert_rejected_quietly(response, status, code, logs, resolver_calls)


@pytest.mark.parametrize("content_type", [
    "application/json", "application/json; charset=utf-8", "Application/JSON; Charset=\"UTF-8\"",
    "application/vnd.livecommerce+json", None,
])
def test_well_formed_json_still_passes(api, aws_env, content_type):
    headers = {"Content-Type": content_type or ""}
    login = json.dumps({"provider": "dev", "code": "viewer-1"})
    response = api.call("POST", LOGIN, raw_body=login, headers=headers)
    assert response.status == 200, response.body
    assert response.json()["user"]["id"] == "viewer-1"
    # Within the limits, however odd: read and handed to validation as parsed (the login model
    # forbids extra fields, so each is named), not refused by the pre-check.
    edgy = {"provider": "dev", "code": "viewer-1", "deep": [[[[[[[[1]]]]]]]], "big": 10 ** 29,
            "neg": -(10 ** 29), "f": 1.5e300, "text": "\"[[[{{{\\ " + "9" * 40 + " \u4e2d"}
    response = api.call("POST", LOGIN, raw_body=json.dumps(edgy, ensure_ascii=False), headers=headers)
    assert response.status == 422 and response.json()["code"] == "validation_failed", response.body
    assert sorted(e["field"] for e in response.json()["errors"]) == [
        "body.big", "body.deep", "body.f", "body.neg", "body.text"]


def test_depth_limit_is_exact(api, aws_env):
    """64 nested arrays are read (and then fail validation: `code` must be a string); 65 are refused."""
    assert api.call("POST", LOGIN, raw_body=_nested(63)).json()["code"] == "validation_failed"
    # _nested(n) puts n arrays inside the top-level object: n + 1 levels.
    assert api.call("POST", LOGIN, raw_body=_nested(64)).json()["code"] == "malformed_body"
    assert api.call("POST", LOGIN, raw_body='{"provider": "dev", "code": "' + "[" * 5000 + '"}'
                    ).json()["code"] == "validation_failed"   # brackets inside a string do not nest


def _proxy_event(body: str | None, *, base64_encoded: bool, content_type: str = "application/json") -> dict:
    return {"resource": LOGIN, "path": LOGIN, "httpMethod": "POST",
            "headers": {"Content-Type": content_type}, "multiValueHeaders": {"Content-Type": [content_type]},
            "queryStringParameters": None, "multiValueQueryStringParameters": None, "pathParameters": None,
            "stageVariables": None, "requestContext": {"requestId": "req-1", "resourcePath": LOGIN,
                                                       "httpMethod": "POST", "stage": "local"},
            "body": body, "isBase64Encoded": base64_encoded}


def test_base64_bodies_are_decoded_first(api, aws_env, logs, resolver_calls):
    """API Gateway sends binary bodies base64-encoded (isBase64Encoded): decoded, then checked the same way."""
    from local.lambda_runtime import invoke

    good = base64.b64encode(json.dumps({"provider": "dev", "code": "viewer-1"}).encode()).decode()
    answer = invoke("identity", _proxy_event(good, base64_encoded=True))
    assert answer["statusCode"] == 200, answer["body"]
    assert json.loads(answer["body"])["user"]["id"] == "viewer-1"

    resolver_calls.clear()
    for body, code in ((base64.b64encode(LOGIN_JSON.encode("utf-16")).decode(), "malformed_body"),
                       (base64.b64encode(_nested(1000).encode()).decode(), "malformed_body"),
                       ("%%% not base64 %%%", "malformed_body")):
        logs.clear()
        answer = invoke("identity", _proxy_event(body, base64_encoded=True))
        assert answer["statusCode"] == 400 and json.loads(answer["body"])["code"] == code, answer["body"]
        assert logs.with_traceback() == [], logs.text()
    assert resolver_calls == []

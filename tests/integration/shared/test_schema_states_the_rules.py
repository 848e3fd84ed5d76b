"""Issue 10, outcome 8: the rules the code enforces on a request body are in its schema.

Two directions, from the OpenAPI document the API serves:
- every body the schema allows (Schemathesis' positive cases, derandomized) passes the
  route's pydantic model and the pure rules the services apply before any lookup
  (an empty edit, clearing a required field, reminder channels, a dev login's code, a
  coupon's validity and threshold);
- hand-picked bodies those rules refuse are refused by the schema as well.

What a JSON Schema cannot say stays in descriptions and out of these draws: times relative
to now (a start at most 180 days ahead), limits a deployment sets, integers written with
a fraction (JSON Schema counts 7.0 as an integer; our strict fields refuse it), unassigned
or private-use code points beyond the BMP, and comparisons (a product at most once in a list,
`valid_until` after `valid_from`); the draws are written as the descriptions say.
"""
from __future__ import annotations

import json
import unicodedata
from datetime import datetime, timedelta, timezone
from typing import Any

import jsonschema
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from pydantic import BaseModel, ValidationError
from schemathesis import GenerationMode

from livecommerce.manifest import ROUTES
from livecommerce.shared import problems
from livecommerce.shared import text as text_rule

pytestmark = pytest.mark.integration
EXAMPLES = 30
NOW = datetime(2026, 1, 1, tzinfo=timezone.utc)
COMPARED = {"Value error, valid_until must be after valid_from",
            "Value error, each product at most once; raise its quantity instead",   # orders
            "Value error, each product at most once",                             # presets
            "Value error, each order at most once"}                               # bulk shipments


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    from livecommerce.http_routers import router_builders
    from livecommerce.shared.openapi import render

    return json.loads(render(router_builders(), ROUTES))


@pytest.fixture(scope="module")
def body_models() -> dict[tuple[str, str], type[BaseModel]]:
    """(METHOD, path) -> the pydantic model of its `body` parameter."""
    from livecommerce.http_routers import router_builders
    from livecommerce.shared.openapi import build_docs_api

    api = build_docs_api(router_builders(), ROUTES)
    found = {}
    for route in (*api.app._static_routes, *api.app._dynamic_routes):
        annotation = getattr(route.func, "__annotations__", {}).get("body")
        if isinstance(annotation, str):
            annotation = route.func.__globals__.get(annotation)
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            found[(route.method, route.openapi_path)] = annotation
    return found


def _as_described(value: Any) -> Any:
    """What the descriptions say and the schema does not: 7.0 -> 7 (JSON Schema's integer includes it, our
    strict integer fields do not), no private-use or unassigned code point beyond the BMP (the
    character rule's pattern covers the BMP only, see shared.fields), and no unassigned code point in
    the BMP either (which ones are unassigned changes with the Unicode version: the pattern leaves
    them to the description, TEXT_NOTE)."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        return "".join("x" if text_rule.forbidden(ch) and (ord(ch) > 0xFFFF or unicodedata.category(ch) == "Cn")
                       else ch for ch in value)
    if isinstance(value, dict):
        return {k: _as_described(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_as_described(v) for v in value]
    return value


def _pure_rules(method: str, path: str, body: dict[str, Any], model: BaseModel) -> None:
    """The checks the services make on the body alone, before loading anything."""
    from livecommerce.identity import rules as identity_rules
    from livecommerce.marketing import rules as marketing_rules
    from livecommerce.rooms import rules as room_rules

    if (method, path) == ("PATCH", "/v1/rooms/{room_id}"):
        changes = model.model_dump(exclude_unset=True)
        if changes.get("scheduled_start") is not None:
            # The start's own rule is relative to now (its description says so).
            changes["scheduled_start"] = NOW + timedelta(days=1)
        room_rules.edit_values(changes, NOW)   # empty_update, and title/start/visibility not cleared
    if (method, path) == ("PATCH", "/v1/products/{product_id}"):
        changes = model.model_dump(exclude_unset=True)
        assert changes, "empty_update"
        assert not [f for f in ("name", "list_price", "stock", "images") if f in changes and changes[f] is None]
    if (method, path) == ("PUT", "/v1/rooms/{room_id}/reservation"):
        room_rules.check_reservation_channels(subscribe_message=model.subscribe_message, sms=model.sms,
                                              phone=model.phone)
    if (method, path) == ("POST", "/v1/auth/login") and model.provider == "dev":
        assert identity_rules.is_dev_user_id(model.code)
    if (method, path) == ("POST", "/v1/coupon-templates"):
        problem = marketing_rules.check_template(model.kind, model.amount, model.threshold)
        # A threshold above the amount is a comparison of two fields: the description says it.
        assert problem is None or "must exceed its amount" in problem, problem


def test_every_body_the_schema_allows_passes_the_model_and_the_body_rules(document, body_models):
    schema = schemathesis.openapi.from_dict(document)
    checked = refused = 0
    failures = []
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.body is None or not len(operation.body):
            continue
        key = (operation.method.upper(), operation.path)
        model = body_models.get(key)
        if model is None:
            continue   # a provider's notification format, not a pydantic body
        bodies: list[Any] = []

        @settings(max_examples=EXAMPLES, derandomize=True, database=None, deadline=None,
                  phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
        @given(operation.as_strategy(generation_mode=GenerationMode.POSITIVE))
        def draw(case):
            bodies.append(case.body)

        draw()
        for body in bodies:
            body = _as_described(body)
            checked += 1
            try:
                parsed = model.model_validate_json(json.dumps(body))
                _pure_rules(*key, body, parsed)
            except ValidationError as exc:
                if {e["msg"] for e in exc.errors()} <= COMPARED:
                    continue   # items or fields compared with each other: the descriptions say it
                refused += 1
                failures.append(f"{key[0]} {key[1]}: {json.dumps(body, ensure_ascii=True)[:200]}\n    {exc}")
            except (problems.Problem, AssertionError) as exc:
                refused += 1
                failures.append(f"{key[0]} {key[1]}: {json.dumps(body, ensure_ascii=True)[:200]}\n    "
                                f"{str(exc).splitlines()[0][:200]}")
    assert checked > 500   # about 30 bodies for each of 21 operations
    assert not failures, f"{refused} of {checked} schema-valid bodies refused:\n" + "\n".join(failures[:30])


def _validator(document: dict[str, Any], name: str) -> jsonschema.Draft202012Validator:
    # Draft 2020-12 (OpenAPI 3.1); $refs resolve inside the document's components.
    schema = {**document["components"]["schemas"][name], "components": document["components"]}
    return jsonschema.Draft202012Validator(schema)


T = {"name": "券", "kind": "no_threshold", "amount": 100, "total": 10}
ULID = "01ARZ3NDEKTSV4RRFFQ69G5FAV"
L = {"kind": "follow", "prize": {"kind": "points", "name": "积分", "points": 10}, "winners": 1, "duration_seconds": 60}


@pytest.mark.parametrize("name, body, allowed", [
    ("UpdateRoomRequest", {}, False),                                   # 400 empty_update
    ("UpdateRoomRequest", {"title": None}, False),                      # cannot be cleared
    ("UpdateRoomRequest", {"scheduled_start": None}, False),
    ("UpdateRoomRequest", {"visibility": None}, False),
    ("UpdateRoomRequest", {"topic": None}, True),
    ("UpdateRoomRequest", {"title": "新标题"}, True),
    ("UpdateProductRequest", {}, False),
    ("UpdateProductRequest", {"stock": None}, False),
    ("UpdateProductRequest", {"description": None}, True),
    ("CreateTemplateRequest", T, False),                                # neither validity
    ("CreateTemplateRequest", {**T, "valid_days": None, "valid_until": None}, False),
    ("CreateTemplateRequest", {**T, "valid_days": 7, "valid_until": "2030-01-01T00:00:00Z"}, False),
    ("CreateTemplateRequest", {**T, "valid_days": 7}, True),
    ("CreateTemplateRequest", {**T, "valid_days": 7, "valid_until": None}, True),
    ("CreateTemplateRequest", {**T, "valid_until": "2030-01-01T00:00:00Z"}, True),
    ("CreateTemplateRequest", {**T, "valid_days": 7, "threshold": 500}, False),   # no_threshold with a threshold
    ("ReservationRequest", {"sms": True}, False),                       # phone required for SMS
    ("ReservationRequest", {"sms": True, "phone": None}, False),
    ("ReservationRequest", {"subscribe_message": False}, False),        # no channel at all
    ("ReservationRequest", {"subscribe_message": False, "sms": False, "phone": "13800138000"}, False),
    ("ReservationRequest", {}, True),
    ("ReservationRequest", {"subscribe_message": False, "sms": True, "phone": "13800138000"}, True),
    ("LoginRequest", {"provider": "dev", "code": "/ ("}, False),
    ("LoginRequest", {"provider": "wechat", "code": "/ ("}, True),
    ("LoginRequest", {"provider": "dev", "code": "viewer-1"}, True),
    ("DanmakuRequest", {"text": "\u0081"}, False),
    ("DanmakuRequest", {"text": " 想要\n"}, True),                      # trimmed before the check
    ("CreateProductRequest", {"name": "n", "list_price": 1, "stock": 1, "images": ["https://\x8a"]}, False),
    ("CreateProductRequest", {"name": "n😍", "list_price": 1, "stock": 1}, True),
    ("CreateLotteryRequest", {**L, "kind": "keyword"}, False),          # keyword lotteries need the word
    ("CreateLotteryRequest", {**L, "kind": "keyword", "keyword": None}, False),
    ("CreateLotteryRequest", {**L, "keyword": "抽奖"}, False),           # ... and only they have one
    ("CreateLotteryRequest", {**L, "kind": "keyword", "keyword": "抽奖"}, True),
    ("CreateLotteryRequest", L, True),
    ("Prize", {"kind": "product", "name": "n"}, False),                 # the kind's own field is required
    ("Prize", {"kind": "coupon", "name": "n", "template_id": None}, False),
    ("Prize", {"kind": "points", "name": "n", "points": 5, "product_id": ULID}, False),   # and no other
    ("Prize", {"kind": "gift", "name": "n", "points": 5}, False),
    ("Prize", {"kind": "gift", "name": "n"}, True),
    ("Prize", {"kind": "coupon", "name": "n", "template_id": ULID, "points": None}, True),
    ("Prize", {"kind": "product", "name": "n", "product_id": ULID}, True),
])
def test_the_schema_refuses_what_the_rules_refuse(document, name, body, allowed):
    assert _validator(document, name).is_valid(body) is allowed


def test_paged_lists_describe_their_cursor(document):
    cursors = [(path, param) for path, ops in document["paths"].items() for op in ops.values()
               for param in op.get("parameters") or () if param["name"] == "cursor" and param["in"] == "query"]
    assert len(cursors) >= 5
    for path, param in cursors:
        assert "invalid_cursor" in param.get("description", ""), path

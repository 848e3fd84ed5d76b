"""Every consumer takes every event type it subscribes to, as its producer's model builds it.

For each subscription on the domain bus, and each event type it receives, a
detail is built from the PRODUCER's model with every field filled (the room is
a real live room, so consumers that look the room up go all the way), wrapped
in the EventBridge envelope and handed to the consumer's real handler. A
consumer that reads a field its event does not have fails here with an
AttributeError or a validation error (the cards in the video once read `title`
and `stock` from ProductListed, which carries `name` and `stock_left`).
"""
from __future__ import annotations

import types
import typing
from datetime import datetime, timedelta, timezone
from typing import Any, Literal, Union, get_args, get_origin

import pytest
from pydantic import BaseModel

from livecommerce import manifest
from livecommerce.event_catalogue import event_models
from livecommerce.shared.ids import new_ulid

pytestmark = pytest.mark.integration

MODELS = event_models()
CASES = sorted({(s.function, detail_type) for s in manifest.SUBSCRIPTIONS if s.bus == "domain"
                for detail_type in MODELS if s.matches("livecommerce", detail_type)})


def sample_value(name: str, annotation: Any, ids: dict[str, str]) -> Any:
    origin = get_origin(annotation)
    if origin is Union or origin is types.UnionType:
        options = [a for a in get_args(annotation) if a is not type(None)]
        return sample_value(name, options[0], ids)
    if origin is Literal:
        return get_args(annotation)[0]
    if origin in (list, tuple, typing.List):
        (inner, *_rest) = get_args(annotation) or (str,)
        return [sample_value(name, inner, ids)]
    if origin is dict or annotation is dict:     # dict[str, X], or a bare dict (LotteryDrawn.winners: list[dict])
        return {"k": "v"}
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return sample_detail(annotation, ids)
    if annotation is bool:
        return True
    if annotation is int:
        return 3
    if annotation is float:
        return 1.5
    if annotation is datetime:
        return datetime.now(timezone.utc)
    if name in ids:
        return ids[name]
    if name.endswith("_at") or name in ("starts_at", "ends_at", "scheduled_start"):
        return datetime.now(timezone.utc).isoformat().replace("+00:00", "Z")
    if name.endswith("_id"):
        return new_ulid()
    return f"sample {name}"


def sample_detail(model: type[BaseModel], ids: dict[str, str]) -> dict[str, Any]:
    values = {name: sample_value(name, field.annotation, ids) for name, field in model.model_fields.items()
              if name not in ("event_id", "occurred_at")}
    built = model(**values)
    return built.detail() if hasattr(built, "detail") else built.model_dump(mode="json")


@pytest.fixture
def live_room(api, tokens_for, ivs_env):
    token = tokens_for("host-1")
    created = api.call("POST", "/v1/rooms", token=token, json_body={
        "title": "consumer check",
        "scheduled_start": (datetime.now(timezone.utc) + timedelta(hours=2)).isoformat().replace("+00:00", "Z")})
    assert created.status == 201, created.body
    room_id = created.json()["id"]
    assert api.call("POST", f"/v1/rooms/{room_id}/start", token=token).status == 200
    return room_id


def test_every_domain_subscription_is_checked():
    functions = {s.function for s in manifest.SUBSCRIPTIONS if s.bus == "domain"}
    assert functions == {function for function, _ in CASES}
    assert ("broadcasts", "ProductListed") in CASES and ("commerce_events", "OrderPaid") in CASES


def test_every_consumer_takes_the_events_their_producers_build(live_room):
    """One room for every case (creating a room costs a channel): the failures are listed together."""
    from local.lambda_runtime import invoke

    ids = {"room_id": live_room, "user_id": "viewer-1", "host_id": "host-1", "viewer_id": "viewer-1"}
    failures = []
    for function, detail_type in CASES:
        detail = sample_detail(MODELS[detail_type], ids)
        now = datetime.now(timezone.utc).isoformat()
        envelope = {
            "version": "0", "id": new_ulid(), "source": "livecommerce", "detail-type": detail_type,
            "account": "123456789012", "time": now, "region": "ap-northeast-1", "resources": [],
            "detail": {**detail, "event_id": new_ulid(), "occurred_at": now},
        }
        try:
            result = invoke(function, envelope)
        except Exception as exc:  # noqa: BLE001 - every failing case is reported at once
            failures.append(f"{function} <- {detail_type}: {type(exc).__name__}: {exc}")
            continue
        if not isinstance(result, dict) or "invalid" in str(result.get("outcome", "")) or result.get("errorType"):
            failures.append(f"{function} <- {detail_type}: {result!r}")
    assert not failures, "\n".join(failures)

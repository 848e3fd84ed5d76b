"""The beacon route's integration, locally: what API Gateway does on AWS, with no Lambda.

AWS (cdk/constructs/routed_api.py, from the route's ServiceIntegration): request validator with
the BeaconBatch JSON Schema -> beacon authorizer (cached) -> request mapping template -> Firehose
PutRecordBatch -> response mapping template. Here the same steps, in-process: the same JSON
Schema (draft 4, jsonschema), the same VTL text rendered by a Velocity engine (local.vtl), the
request it renders sent to the Firehose stand-in (local.firehose, which answers like Firehose,
400 for the refused batch), and the response template chosen by Firehose's status class as the
integration responses select it. The local gateway runs the authorizer and calls `serve`.
"""
from __future__ import annotations

import json
import os
import threading
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import jsonschema

from livecommerce.analytics.store_schema import delivery_stream_name
from livecommerce.shared.spec import ServiceIntegration
from local import vtl
from local.firehose import LocalFirehose
from local.resources import LOCAL_PREFIX

_lock = threading.Lock()
_firehose: LocalFirehose | None = None


def use_firehose(firehose: LocalFirehose | None) -> None:
    """The Firehose stand-in the beacon route (and the local event delivery) write to."""
    global _firehose
    with _lock:
        _firehose = firehose


def firehose() -> LocalFirehose:
    """The stand-in in use; by default one over ANALYTICS_STORE (the folder DuckDB reads)."""
    global _firehose
    with _lock:
        if _firehose is None:
            _firehose = LocalFirehose(os.environ.get("ANALYTICS_STORE", ".local/analytics"))
        return _firehose


def _resolve(reference: str) -> Any:
    import importlib

    module, _, name = reference.partition(":")
    return getattr(importlib.import_module(module), name)


@lru_cache(maxsize=8)
def _validator(reference: str) -> jsonschema.Draft4Validator:
    schema = _resolve(reference)()
    jsonschema.Draft4Validator.check_schema(schema)
    return jsonschema.Draft4Validator(schema)


@lru_cache(maxsize=8)
def _templates(reference: str, stream: str) -> tuple[str, dict[str, str]]:
    return _resolve(reference)(stream)


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: str


def valid_body(integration: ServiceIntegration, body: bytes | None) -> bool:
    """API Gateway's request validator: JSON, and valid against the route's model."""
    try:
        document = json.loads(body or b"")
    except (ValueError, UnicodeDecodeError):
        return False
    return _validator(integration.request_schema).is_valid(document)


def serve(integration: ServiceIntegration, *, body: bytes, params: dict[str, str], request_id: str,
          request_time_ms: int, source_ip: str, authorizer: dict[str, Any],
          prefix: str = LOCAL_PREFIX) -> Answer:
    """Everything after the validator and the authorizer: templates and Firehose."""
    if integration.service != "firehose" or integration.action != "PutRecordBatch":
        raise NotImplementedError(f"local service integration {integration.service}:{integration.action}")
    stream = delivery_stream_name(prefix, integration.target)
    request_template, response_templates = _templates(integration.templates, stream)
    context = {"requestId": request_id, "requestTimeEpoch": request_time_ms,
               "identity": {"sourceIp": source_ip}, "authorizer": authorizer}
    text = body.decode("utf-8")
    request = vtl.render(request_template, context=context, body=text, params={"path": params})
    status, reply = firehose().put_record_batch_request(json.loads(request.text), prefix=prefix)
    kind = f"{status // 100}xx"
    response = vtl.render(response_templates[kind], context=context, body=json.dumps(reply))
    success = integration.success_status if kind == "2xx" else {"4xx": 400, "5xx": 503}[kind]
    headers = {"Content-Type": "application/json", **response.header_overrides}
    return Answer(response.status_override or success, headers, response.text)

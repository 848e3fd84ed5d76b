"""The beacon route on API Gateway: the mapping templates of its Firehose integration, and the
decision of its REQUEST authorizer.

`POST /v1/rooms/{room_id}/events` has no Lambda behind it (analytics.spec: a Route with a
ServiceIntegration). API Gateway validates the body against `beacons.request_schema()`, runs the
beacon authorizer (cached per login token and playback-token header: once per viewer per room per
TTL), then renders `vtl/beacons_request.vtl` into a Firehose PutRecordBatch request and one of the
response templates into the answer. CDK installs these templates (cdk/constructs/routed_api.py),
the local gateway renders the very same text with a Velocity engine (local/beacon_integration.py),
and tests/unit/analytics/test_beacon_templates.py renders them against sample API Gateway contexts
and compares them with `beacons.records()`, the same rules in Python.

Why the templates can build JSON by concatenation: the validator has already refused any string
outside [A-Za-z0-9_.:-]{0,64} and any number that is not an integer, and the stamped values are
API Gateway's own (request id, epoch ms, source IP) or the authorizer's (ULIDs / user ids).
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from livecommerce.analytics import beacons
from livecommerce.shared.problems import problem_body

VTL = Path(__file__).resolve().parent / "vtl"
# Firehose answers 400 to the refusal the request template sends (an invalid stream name and no
# records), so the 4xx template answers 404 / 422; 5xx is Firehose unavailable.
REFUSED_STREAM = "refused:batch"

NOT_FOUND = problem_body(404, "room_not_found", "Not found", "No such room.")
REJECTED = problem_body(422, "beacon_rejected", "Beacons rejected", beacons.REJECTED_DETAIL)
UNAVAILABLE = problem_body(503, "upstream_unavailable", "A provider is unavailable, retry later",
                           "The analytics stream did not take the batch; send it again.")


@dataclass(frozen=True)
class Templates:
    request: str
    # integration response templates by the Firehose status class they answer ("2xx", "4xx", "5xx")
    responses: dict[str, str]


def _json(body: dict[str, Any]) -> str:
    """A problem body with API Gateway's request id as its correlation id (as the gateway responses)."""
    text = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
    return text[:-1] + ',"correlation_id":"$context.requestId"}'



@lru_cache(maxsize=8)
def templates(stream_name: str) -> Templates:
    """The templates for the beacons delivery stream `stream_name`."""
    values = {
        "@STREAM@": stream_name, "@MAX_BATCH@": str(beacons.MAX_BATCH),
        "@MAX_HEARTBEATS@": str(beacons.MAX_HEARTBEATS_PER_BATCH),
        "@MAX_PAST_SKEW_MS@": str(beacons.MAX_PAST_SKEW_MS), "@MAX_FUTURE_SKEW_MS@": str(beacons.MAX_FUTURE_SKEW_MS),
        "@NOT_FOUND@": _json(NOT_FOUND), "@REJECTED@": _json(REJECTED), "@UNAVAILABLE@": _json(UNAVAILABLE),
    }

    def load(name: str) -> str:
        text = (VTL / name).read_text(encoding="utf-8")
        for key, value in values.items():
            text = text.replace(key, value)
        left = re.findall(r"@[A-Z_]+@", text)
        if left:
            raise ValueError(f"{name}: placeholders left: {left}")
        return text

    return Templates(request=load("beacons_request.vtl"),
                     responses={c: load(f"beacons_response_{c}.vtl") for c in ("2xx", "4xx", "5xx")})


def templates_for_spec(stream_name: str) -> tuple[str, dict[str, str]]:
    """ServiceIntegration.templates: (request template, response templates by status class)."""
    t = templates(stream_name)
    return t.request, dict(t.responses)

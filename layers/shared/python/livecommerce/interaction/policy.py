"""IoT Core policies of the room channel: built by the custom authorizer,
evaluated by AWS IoT Core on AWS and by the local broker (local.mqtt) with
`allows`, so both enforce the very same documents (pure).

Evaluation follows IoT Core: an explicit Deny wins, otherwise an Allow must
match; `*` and `?` are the only wildcards in a resource (the MQTT wildcards
`+` and `#` in a topic filter are literal characters there). The local broker
matches the part of the ARN after `<account>:` (client/..., topic/...,
topicfilter/...) and does not compare partition, region or account.
"""
from __future__ import annotations

import re
from functools import lru_cache
from typing import Any, Iterable

from livecommerce.interaction import topics

VERSION = "2012-10-17"
CONNECT, SUBSCRIBE, RECEIVE, PUBLISH = "iot:Connect", "iot:Subscribe", "iot:Receive", "iot:Publish"


def arn_prefix(partition: str, region: str, account: str) -> str:
    return f"arn:{partition}:iot:{region}:{account}:"


def viewer_policy(*, partition: str, region: str, account: str, stage: str, room_id: str, user_id: str,
                  client_id: str, staff: bool = False) -> dict[str, Any]:
    """Connect with this client id; subscribe to and receive the room's danmaku
    and events topics and the user's own private topic, and, for the room's staff
    (`staff`: its host, an operator, an assistant of the room), the staff topic.
    No iot:Publish at all: viewers speak through the HTTP API, where moderation runs."""
    base = arn_prefix(partition, region, account)
    names = topics.viewer_topics(stage, room_id, user_id)
    ordered = [names["danmaku"], names["events"], names["private"], names["state"]]
    # The state filter (state/+) is subscribed as one literal filter; its messages arrive on
    # state/<kind> topics (retained ones at once on subscribing).
    received = ordered[:3] + [names["state"][:-1] + "*"]
    if staff:
        ordered.append(topics.staff_topic(stage, room_id))
        received.append(topics.staff_topic(stage, room_id))
    return {
        "Version": VERSION,
        "Statement": [
            {"Effect": "Allow", "Action": CONNECT, "Resource": f"{base}client/{client_id}"},
            {"Effect": "Allow", "Action": SUBSCRIBE, "Resource": [f"{base}topicfilter/{t}" for t in ordered]},
            {"Effect": "Allow", "Action": RECEIVE, "Resource": [f"{base}topic/{t}" for t in received]},
        ],
    }


def resource(kind: str, name: str) -> str:
    """The resource part the local broker checks: client/<id>, topic/<t>, topicfilter/<f>."""
    return f"{kind}/{name}"


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else [str(v) for v in value]


def _resource_part(arn: str) -> str:
    # arn:partition:iot:region:account:rest -> rest ("*" stays "*")
    if arn == "*":
        return "*"
    parts = arn.split(":", 5)
    return parts[5] if len(parts) == 6 and parts[2] == "iot" else "\x00unmatchable"


@lru_cache(maxsize=4096)
def _pattern(glob: str) -> re.Pattern[str]:
    out = []
    for ch in glob:
        if ch == "*":
            out.append(".*")
        elif ch == "?":
            out.append(".")
        else:
            out.append(re.escape(ch))
    return re.compile("^" + "".join(out) + "$", re.DOTALL)


def _action_matches(patterns: Iterable[str], action: str) -> bool:
    return any(_pattern(p.lower()).match(action.lower()) for p in patterns)


def allows(documents: Iterable[dict[str, Any]], action: str, resource_part: str) -> bool:
    """True if the documents allow `action` on `resource_part` (e.g. "topic/lc/...")."""
    allowed = False
    for document in documents:
        for statement in document.get("Statement", []) or []:
            if not _action_matches(_as_list(statement.get("Action")), action):
                continue
            if not any(_pattern(_resource_part(r)).match(resource_part)
                       for r in _as_list(statement.get("Resource"))):
                continue
            if statement.get("Effect") == "Deny":
                return False
            if statement.get("Effect") == "Allow":
                allowed = True
    return allowed

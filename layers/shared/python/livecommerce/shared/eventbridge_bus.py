"""The event bus port's AWS adapter: EventBridge PutEvents on the domain bus."""
from __future__ import annotations

import json
from typing import Any

from livecommerce.shared import aws
from livecommerce.shared.settings import get_settings
from livecommerce.shared.spec import EVENT_SOURCE


class EventPublishError(RuntimeError):
    pass


# PutEvents takes at most 10 entries and 256 KB per call (an entry's size: its detail type,
# detail, source and resources in UTF-8, plus 14 bytes for the time).
MAX_ENTRIES = 10
MAX_BYTES = 256 * 1024


def _entry(detail_type: str, detail: dict[str, Any], resources: list[str] | None = None) -> dict[str, Any]:
    entry = {
        "Source": EVENT_SOURCE,
        "DetailType": detail_type,
        "Detail": json.dumps(detail),
        "EventBusName": get_settings().event_bus_name,
    }
    if resources:
        entry["Resources"] = resources
    return entry


def _size(entry: dict[str, Any]) -> int:
    return 14 + sum(len(entry[k].encode("utf-8")) for k in ("Source", "DetailType", "Detail")) + sum(
        len(r.encode("utf-8")) for r in entry.get("Resources", ()))


def batches(entries: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """The entries in order, cut into PutEvents calls (at most 10 entries and 256 KB each)."""
    out: list[list[dict[str, Any]]] = []
    size = 0
    for entry in entries:
        grows = _size(entry)
        if not out or len(out[-1]) == MAX_ENTRIES or size + grows > MAX_BYTES:
            out.append([])
            size = 0
        out[-1].append(entry)
        size += grows
    return out


class EventBridgeBus:
    """The event bus port's AWS adapter."""

    def put(self, detail_type: str, detail: dict[str, Any], *, resources: list[str] | None = None) -> None:
        result = aws.client("events").put_events(Entries=[_entry(detail_type, detail, resources)])
        if result.get("FailedEntryCount"):
            raise EventPublishError(str(result["Entries"]))

    def put_many(self, events: list[tuple[str, dict[str, Any]]]) -> list[bool]:
        """One PutEvents per batch; per event, whether EventBridge took it (its answer has one result
        per entry, in order, an `ErrorCode` on each it refused). If the first call fails whole it
        raises; if a later one does, its events and the rest count as not taken."""
        taken: list[bool] = []
        for batch in batches([_entry(detail_type, detail) for detail_type, detail in events]):
            try:
                result = aws.client("events").put_events(Entries=batch)
            except Exception:
                if not taken:
                    raise
                return taken + [False] * (len(events) - len(taken))   # later batches stay for a retry
            answers = result.get("Entries") or []
            if len(answers) != len(batch):
                raise EventPublishError(f"PutEvents answered {len(answers)} results for {len(batch)} entries")
            taken += [not answer.get("ErrorCode") for answer in answers]
        return taken

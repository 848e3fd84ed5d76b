"""Where the IVS stand-in's events go.

IVS sends its events to EventBridge itself; the stand-in builds the same
envelope and hands it, in order and off the caller's thread, to a *sink*: any
callable taking the event dict. `EventBridgeSink` puts it on a bus with boto3
(honouring ``AWS_ENDPOINT_URL``, i.e. the moto server of the local stack);
tests pass ``list.append`` or their own function.

The event handed to sinks looks like what an EventBridge rule delivers::

    {"version": "0", "id": "...", "detail-type": "IVS Stream State Change",
     "source": "aws.ivs", "account": "...", "time": "2024-01-01T00:00:00Z",
     "region": "...", "resources": ["arn:aws:ivs:...:channel/..."],
     "detail": {"event_name": "Stream Start", "channel_name": "...", "stream_id": "st-..."}}

(`EventBridgeSink` sends source, detail-type, resources and detail; the bus
adds id, time, account and region itself, as it does for IVS.)
"""
from __future__ import annotations

import json
import logging
import queue
import threading
import uuid
from collections import deque
from datetime import datetime, timezone
from typing import Any, Callable, Iterable

SOURCE = "aws.ivs"
Sink = Callable[[dict], None]

log = logging.getLogger("local.ivs.events")


class EventBridgeSink:
    """Puts events on the bus `bus_name` (PutEvents, as IVS does)."""

    def __init__(self, bus_name: str, *, region: str | None = None) -> None:
        self.bus_name = bus_name
        self.region = region
        self._client = None
        self._lock = threading.Lock()

    def _events(self):
        with self._lock:
            if self._client is None:
                import boto3

                self._client = boto3.session.Session(region_name=self.region).client("events")
            return self._client

    def __call__(self, event: dict) -> None:
        result = self._events().put_events(Entries=[{
            "Source": event["source"], "DetailType": event["detail-type"], "Resources": event["resources"],
            "Detail": json.dumps(event["detail"]), "EventBusName": self.bus_name,
        }])
        if result.get("FailedEntryCount"):
            raise RuntimeError(f"PutEvents failed: {result.get('Entries')}")


class EventPump:
    """Calls the sinks with each event, in order, from one background thread.

    A failing sink is logged and skipped (IVS delivery is best effort too); the
    last `history` events are kept in `recent` for inspection.
    """

    def __init__(self, sinks: Iterable[Sink], *, region: str, account_id: str, history: int = 200) -> None:
        self.sinks: list[Sink] = list(sinks)
        self.region = region
        self.account_id = account_id
        self.recent: deque[dict] = deque(maxlen=history)
        self._queue: queue.Queue = queue.Queue()
        self._thread: threading.Thread | None = None
        self._idle = threading.Condition()
        self._pending = 0

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="ivs-events", daemon=True)
            self._thread.start()

    def emit(self, detail_type: str, resources: list, detail: dict) -> None:
        event = {
            "version": "0", "id": str(uuid.uuid4()), "detail-type": detail_type, "source": SOURCE,
            "account": self.account_id, "time": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "region": self.region, "resources": list(resources), "detail": dict(detail),
        }
        self.recent.append(event)
        with self._idle:
            self._pending += 1
        self._queue.put(event)

    def flush(self, timeout: float = 10.0) -> bool:
        """Waits until every emitted event went through the sinks; False on timeout."""
        with self._idle:
            return self._idle.wait_for(lambda: self._pending == 0, timeout=timeout)

    def stop(self, timeout: float = 5.0) -> None:
        if self._thread is not None:
            self.flush(timeout)
            self._queue.put(None)
            self._thread.join(timeout)
            self._thread = None

    def _run(self) -> None:
        while True:
            event = self._queue.get()
            if event is None:
                return
            for sink in list(self.sinks):
                try:
                    sink(event)
                except Exception:
                    log.exception("IVS event %s %s not delivered", event["detail-type"],
                                  event["detail"].get("event_name") or event["detail"].get("recording_status"))
            with self._idle:
                self._pending -= 1
                self._idle.notify_all()


def describe(event: dict[str, Any]) -> str:
    """'Stream Start st-...' — for logs."""
    detail = event.get("detail", {})
    return f"{detail.get('event_name') or detail.get('recording_status')} {detail.get('stream_id', '')}".strip()

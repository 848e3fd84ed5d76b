"""The replay state machine's tasks (statemachines/replay.asl.json) and what starts it.

- {"action": ...} from the state machine: claim, publish, missing, failed (RecordingNotReady
  leaves as the error the machine retries);
- EventBridge: IVS Recording End or S3 Object Created (recording-ended.json) -> StartExecution;
  ProductListed, FlashSaleStarted, CouponDropped, LotteryOpened -> the room's marks."""
from __future__ import annotations

from typing import Any

from livecommerce.shared.observability import logger

MARKS = {"ProductListed", "FlashSaleStarted", "CouponDropped", "LotteryOpened"}


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    from livecommerce.media import replays  # deferred: pynamodb pulls in botocore

    if isinstance(event, dict) and "action" in event:
        logger.append_keys(action=event.get("action"), prefix=event.get("prefix"), room_id=event.get("room_id"))
        return replays.task(event)
    if event.get("detail-type") in MARKS:
        return {"outcome": replays.record_mark(event)}
    return {"outcome": replays.start(event)}

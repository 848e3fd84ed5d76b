"""What the scheduled commerce function and the commerce event consumer do."""
from __future__ import annotations

from typing import Any

from livecommerce.shared.observability import logger


def tick(*, outbox_older_than_seconds: int = 30) -> dict[str, int]:
    """One run of the every-minute schedule. Each step is idempotent; one failing does not stop the rest.
    Flash-sale steps and coupon drops due within the next minute get timers (orders.timers), so they
    go out at the second; the tick runs only those whose timer was lost."""
    from livecommerce.catalog import repository as catalog
    from livecommerce.marketing import repository as marketing
    from livecommerce.marketing import service as marketing_service
    from livecommerce.orders import flash, repository, service

    steps = {
        "orders_expired": service.expire_overdue,
        "sale_steps": flash.run_due_steps,
        "drops_published": marketing_service.publish_due_drops,
        "outbox_swept": lambda: (repository.sweep_outbox(older_than_seconds=outbox_older_than_seconds)
                                 + catalog.sweep_outbox(older_than_seconds=outbox_older_than_seconds)
                                 + marketing.sweep_outbox(older_than_seconds=outbox_older_than_seconds)),
    }
    result: dict[str, int] = {}
    for name, step in steps.items():
        try:
            result[name] = int(step())
        except Exception:  # noqa: BLE001 - logged; the next minute retries
            logger.exception("commerce schedule step failed", extra={"step": name})
            result[name] = 0
            result["failed_steps"] = result.get("failed_steps", 0) + 1
    return result


def on_timer(raw: object) -> dict[str, Any]:
    """A timer invocation ({"timer": {...}}): sleep until its moment and run the step."""
    from livecommerce.marketing import service as marketing_service
    from livecommerce.orders import flash
    from livecommerce.shared import timers

    return timers.run(raw, {"flash_sale": flash.run_step, "coupon_drop": marketing_service.run_drop})


def on_domain_event(event: dict[str, Any]) -> dict[str, Any]:
    from livecommerce.marketing import service as marketing
    from livecommerce.orders import pricing
    from livecommerce.orders.settings import get_commerce_settings

    detail_type = event.get("detail-type")
    detail = event.get("detail") or {}
    if detail_type == "OrderPaid" and detail.get("order_id") and detail.get("user_id"):
        points = pricing.points_for(int(detail.get("total") or 0), get_commerce_settings().points_per_yuan)
        awarded = marketing.award_points(str(detail["user_id"]), points, reason="order_paid",
                                         ref=f"order:{detail['order_id']}")
        return {"detail_type": detail_type, "points": points if awarded else 0, "awarded": awarded}
    return {"detail_type": detail_type, "ignored": True}

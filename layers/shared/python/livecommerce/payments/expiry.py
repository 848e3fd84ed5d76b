"""Before an unpaid order expires: ask each provider it was offered to whether it was paid, apply a
found payment exactly as its notification would be (orders.apply_payment: once per transaction),
and close it at the provider so it cannot be paid afterwards. A payment that still arrives after
expiry is announced by orders (OrderRefundRequired, reason order_expired) and refunded
(payments.refunds)."""
from __future__ import annotations

from livecommerce import orders
from livecommerce.payments import credentials as creds
from livecommerce.payments import refunds  # noqa: F401 - registers the provider adapters on the ports
from livecommerce.payments.alipay_adapter import BEIJING
from livecommerce.payments.errors import ProviderError
from livecommerce.shared import ports
from livecommerce.shared.clock import iso, now_iso
from livecommerce.shared.observability import logger

WECHATPAY, ALIPAY = refunds.WECHATPAY, refunds.ALIPAY


def _found_payment(channel: str, doc: dict) -> tuple[str, int, str] | None:
    """(transaction id, amount in fen, paid at) if the provider's trade says it was paid."""
    from datetime import datetime  # deferred: only for a found payment (rare)

    if channel == "wechat":
        if doc.get("trade_state") not in ("SUCCESS", "REFUND"):
            return None
        try:
            paid_at = iso(datetime.fromisoformat(str(doc.get("success_time")).replace("Z", "+00:00")))
        except ValueError:
            paid_at = now_iso()
        return str(doc["transaction_id"]), int((doc.get("amount") or {}).get("total")), paid_at
    if doc.get("trade_status") not in ("TRADE_SUCCESS", "TRADE_FINISHED"):
        return None
    amount = orders.fen_from_yuan_text(str(doc.get("total_amount")))
    try:
        paid_at = iso(datetime.strptime(str(doc.get("send_pay_date")), "%Y-%m-%d %H:%M:%S").replace(tzinfo=BEIJING))
    except ValueError:
        paid_at = now_iso()
    return str(doc["trade_no"]), -1 if amount is None else amount, paid_at


def settle_before_expiry(order_id: str) -> bool:
    """True when the order may expire now: every provider it was offered to has said it is unpaid
    and closed it (or has no such trade), or a payment was found and applied (the order is then no
    longer pending). False when a provider could not be asked: expiry waits for the next run."""
    attempts = [(channel, orders.payment_attempt(order_id, channel)) for channel in ("wechat", "alipay")]
    attempts = [(channel, attempt) for channel, attempt in attempts if attempt is not None]
    if not attempts:
        return True
    settings = orders.commerce_settings()
    configured = creds.credentials()
    ready = True
    for channel, _ in attempts:
        cfg = configured.wechatpay if channel == "wechat" else configured.alipay
        if cfg is None:
            logger.error("order offered to a channel that is no longer configured",
                         extra={"order_id": order_id, "channel": channel})
            continue
        provider = ports.get().provider(WECHATPAY if channel == "wechat" else ALIPAY)
        where = ({"api_base": settings.wechatpay_api_base} if channel == "wechat"
                 else {"gateway": settings.alipay_pay_gateway})
        try:
            for _ in range(2):       # query; close; if the close says "paid", query again
                doc = provider.query_trade(cfg, out_trade_no=order_id, timeout=settings.provider_timeout_seconds,
                                           **where)
                found = _found_payment(channel, doc) if doc else None
                if found is not None:
                    transaction_id, amount, paid_at = found
                    outcome = orders.apply_payment(channel=channel, order_id=order_id,
                                                   transaction_id=transaction_id, amount=amount, paid_at=paid_at)
                    logger.warning("payment found by query before expiry", extra={
                        "order_id": order_id, "channel": channel, "outcome": outcome})
                    break
                closed = provider.close_trade(cfg, out_trade_no=order_id,
                                              timeout=settings.provider_timeout_seconds, **where)
                if closed != "paid":
                    break
        except ProviderError as exc:
            logger.warning("payment check before expiry failed", extra={
                "order_id": order_id, "channel": channel, "provider_code": exc.code})
            ready = False
    return ready

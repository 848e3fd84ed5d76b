"""Fulfilment rules: carriers, tracking numbers, what an order's state allows. Pure, no I/O.

Order states after payment:

    paid --ship--> shipped --receipt (buyer, or automatically)--> delivered
    paid --after-sale before shipping--> refunding --refund succeeded--> refunded (stock back)
                                         refunding --refund failed-->    paid
    shipped | delivered | partially_refunded --refund succeeded--> partially_refunded | refunded

A partially refunded order keeps its shipping facts (`shipped_at`, `delivered_at`): it is
received like a shipped one while it has been shipped and not yet received.
"""
from __future__ import annotations

import re
from datetime import datetime, timedelta

PAID, SHIPPED, DELIVERED = "paid", "shipped", "delivered"
REFUNDING, PARTIALLY_REFUNDED, REFUNDED = "refunding", "partially_refunded", "refunded"
SHIPPED_STATES = frozenset({SHIPPED, DELIVERED, PARTIALLY_REFUNDED})

# The carriers a shipment may name: code -> (name, tracking number pattern). The patterns are
# the numbers' published shapes (letters upper case, no spaces), strict enough to catch typos.
CARRIERS: dict[str, tuple[str, str]] = {
    "SF": ("顺丰速运", r"SF\d{12,13}"),
    "ZTO": ("中通快递", r"7\d{11,14}"),
    "YTO": ("圆通速递", r"YT\d{13,16}"),
    "STO": ("申通快递", r"77\d{11,13}"),
    "YUNDA": ("韵达快递", r"\d{13,15}"),
    "JD": ("京东物流", r"JD[A-Z0-9]{11,16}"),
    "EMS": ("中国邮政 EMS", r"[A-Z]{2}\d{9}[A-Z]{2}|1\d{12}"),
    "JTSD": ("极兔速递", r"JT\d{13}"),
}
_PATTERNS = {code: re.compile(pattern) for code, (_, pattern) in CARRIERS.items()}


def tracking_problem(carrier: str, tracking_number: str) -> str | None:
    """Why this carrier and tracking number cannot be a shipment ("unknown_carrier",
    "invalid_tracking_number"), or None."""
    pattern = _PATTERNS.get(carrier)
    if pattern is None:
        return "unknown_carrier"
    if not isinstance(tracking_number, str) or not pattern.fullmatch(tracking_number):
        return "invalid_tracking_number"
    return None


def ship_problem(state: str, open_after_sale: str | None) -> str | None:
    """Why an order cannot be shipped now, or None: only a paid order with no refund under way."""
    if state == PAID and not open_after_sale:
        return None
    if state == PAID:
        return "after_sale_open"
    if state in SHIPPED_STATES:
        return "order_already_shipped"
    if state in (REFUNDING, REFUNDED):
        return "order_refunded"
    return "order_not_paid"


def receipt_problem(state: str, shipped_at: str | None, delivered_at: str | None) -> str | None:
    """Why receipt cannot be confirmed, or None (a repeated confirmation is answered by the caller)."""
    if delivered_at:
        return "order_already_received"
    if shipped_at and state in (SHIPPED, PARTIALLY_REFUNDED):
        return None
    if state == REFUNDED:
        return "order_refunded"
    return "order_not_shipped"


def state_after_receipt(state: str) -> str:
    return DELIVERED if state == SHIPPED else state


def after_sale_stage(state: str, shipped_at: str | None) -> str | None:
    """"before_shipping", "after_shipping", or None when the order takes no after-sale."""
    if state == PAID and not shipped_at:
        return "before_shipping"
    if state in SHIPPED_STATES and shipped_at:
        return "after_shipping"
    return None


def after_sale_window_closes(shipped_at: datetime, delivered_at: datetime | None, *, window_days: int,
                             auto_receipt_days: int) -> datetime:
    """The last moment an after-shipping after-sale may be asked for: `window_days` after
    receipt; an order never confirmed counts as received when the automatic confirmation is due."""
    received = delivered_at or shipped_at + timedelta(days=auto_receipt_days)
    return received + timedelta(days=window_days)


def confirm_by(shipped_at: datetime, auto_receipt_days: int) -> datetime:
    """When a shipped order not confirmed by its buyer is received automatically."""
    return shipped_at + timedelta(days=auto_receipt_days)

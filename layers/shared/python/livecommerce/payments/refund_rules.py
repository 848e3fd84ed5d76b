"""Refund rules as plain functions (no I/O): which refund a cause makes, how much may go back,
which provider answer means what, and which state a result may move a refund to.

A refund's id is derived from what asked for it, so a retried or repeated request finds the
same refund (and the provider, given the same out_refund_no / out_request_no, the same refund
too): once per after-sale, once per (channel, transaction, reason) for money an order could
not take. A transaction never refunds more than it took, summed over all its refunds that did
not fail.
"""
from __future__ import annotations

import hashlib

REQUESTED, PROCESSING, SUCCEEDED, FAILED = "requested", "processing", "succeeded", "failed"
OPEN_STATES = (REQUESTED, PROCESSING)
FINAL_STATES = (SUCCEEDED, FAILED)
AFTER_SALE = "after_sale"
OVER_REFUND = "REFUND_EXCEEDS_PAYMENT"     # our provider_code when a refund would exceed what was paid


def refund_id(cause: str, *parts: str) -> str:
    """The refund's id (also the provider's out_refund_no / out_request_no: at most 64 of
    [0-9A-Za-z_-|*@], unique per merchant): "RF" and 30 hex digits of a hash of what asked for it."""
    text = "\x1f".join((cause, *parts))
    return "RF" + hashlib.sha256(text.encode("utf-8")).hexdigest()[:30].upper()


def after_sale_refund_id(after_sale_id: str) -> str:
    return refund_id(AFTER_SALE, after_sale_id)


def required_refund_id(channel: str, transaction_id: str, reason: str) -> str:
    return refund_id("required", channel, transaction_id, reason)


def refundable(paid: int, refunded: int, amount: int) -> bool:
    """Whether `amount` fen may still go back from a transaction that took `paid` and has
    `refunded` fen refunded or under way."""
    return amount > 0 and paid > 0 and 0 <= refunded and refunded + amount <= paid


def can_move(state: str, to: str) -> bool:
    """A refund moves requested -> processing -> succeeded | failed (processing may be skipped);
    a final state never changes, and a processing result never undoes a final one."""
    if state in FINAL_STATES:
        return False
    if to == PROCESSING:
        return state == REQUESTED
    return to in FINAL_STATES


# -- what the providers' answers mean ------------------------------------------------------
# WeChat Pay v3 refund status: SUCCESS, CLOSED (closed, no money moved), PROCESSING,
# ABNORMAL (the payer's card or account cannot take it back: needs a person).
_WECHAT = {"SUCCESS": SUCCEEDED, "PROCESSING": PROCESSING, "CLOSED": FAILED, "ABNORMAL": FAILED}


def wechat_state(refund_status: str) -> str | None:
    return _WECHAT.get(str(refund_status or "").upper())


# Alipay: alipay.trade.refund answers fund_change "Y" when the money moved now; the refund
# query answers refund_status REFUND_SUCCESS (absent on an older API: a found refund succeeded).
def alipay_refund_answer_state(fund_change: str | None) -> str:
    return SUCCEEDED if str(fund_change or "").upper() == "Y" else PROCESSING


def alipay_query_state(found: bool, refund_status: str | None) -> str | None:
    if not found:
        return None                 # not refunded (yet): ask again, or submit again (same out_request_no)
    if refund_status in (None, "", "REFUND_SUCCESS"):
        return SUCCEEDED
    return PROCESSING


# Refusals that end a refund (no money moved, asking again will not change it) vs retries.
WECHAT_FINAL_REFUSALS = {"INVALID_REQUEST", "PARAM_ERROR", "USER_ACCOUNT_ABNORMAL",
                         "RESOURCE_NOT_EXISTS", "MCH_NOT_EXISTS", "REFUND_NOT_ALLOWED"}
ALIPAY_FINAL_REFUSALS = {"ACQ.REFUND_AMT_NOT_EQUAL_TOTAL", "ACQ.TRADE_NOT_EXIST", "ACQ.TRADE_NOT_ALLOW_REFUND",
                         "ACQ.REFUND_FEE_ERROR", "ACQ.BUYER_ERROR",
                         "ACQ.TRADE_STATUS_ERROR", "ACQ.INVALID_PARAMETER", "ACQ.REFUND_AMOUNT_EXCEEDED"}

"""The daily reconciliation: each provider's bill for a day against our payments and refunds of that day.

For a bill day (yyyy-mm-dd, Beijing time: the day the providers' bills cover):

1. ours: every payment a provider reported whose money was taken that day (orders' settlement
   records, by their day index: applied or to be refunded, so a duplicate or late payment counts
   too) and every refund that succeeded that day (payments' refund records);
2. theirs: the WeChat Pay trade bill (wechatpay_adapter.trade_bill: tradebill, download, gunzip,
   hash check) and the Alipay bill (alipay_adapter.trade_bill: the download URL, the zip), read by
   `bills` (a file that does not parse is a discrepancy, never an exception);
3. `bills.compare` per provider: missing_in_bill, extra_in_bill, amount_mismatch, bill_unparsable;
4. the report is stored under the day (RECON#<day>): a re-run replaces it, so a day has one report.

A provider that has no bill yet (WeChat Pay NO_STATEMENT_EXIST / STATEMENT_CREATING, Alipay
isp.bill_not_exist) or cannot be asked is the provider's outcome in the report, not a failure of
the run: the scheduled run comes back for a day whose report is not complete.
"""
from __future__ import annotations

from collections import Counter
from datetime import date, datetime, timedelta, timezone
from typing import Literal

from livecommerce import orders
from livecommerce.payments import alipay_adapter, bills, repository, wechatpay_adapter
from livecommerce.payments import credentials as creds
from livecommerce.payments import refund_rules as rules
from livecommerce.payments.errors import ProviderError
from livecommerce.payments.models import (Discrepancy, ProviderReconciliation, ReconciliationReport,
                                          ReconciliationTotals)
from livecommerce.payments.storage import ReconciliationItem, bind_all
from livecommerce.shared import ports
from livecommerce.shared.clock import iso, now_iso, utcnow
from livecommerce.shared.observability import logger

BEIJING = timezone(timedelta(hours=8))
CHANNELS = ("wechat", "alipay")
NOT_READY = {"NO_STATEMENT_EXIST", "STATEMENT_CREATING", "isp.bill_not_exist"}
UNPARSABLE = {"bill_hash_mismatch", "bill_corrupt", "bill_too_large"}
REFUND_LOOKBACK_DAYS = 14          # a refund asked for up to two weeks before it succeeded (bank cards are slow)
MAX_LISTED = 1000                  # discrepancies kept per provider in the stored report (counts stay exact)
COMPLETE = ("reconciled", "discrepancies")

ports.register_provider("wechatpay_bills", lambda: wechatpay_adapter)
ports.register_provider("alipay_bills", lambda: alipay_adapter)


def beijing_today(now: datetime | None = None) -> date:
    return (now or utcnow()).astimezone(BEIJING).date()


def day_bounds(day: str) -> tuple[str, str]:
    """The Beijing day as a UTC ISO 8601 interval [start, end)."""
    start = datetime.combine(date.fromisoformat(day), datetime.min.time(), BEIJING).astimezone(timezone.utc)
    return iso(start), iso(start + timedelta(days=1))


def _beijing_day(moment: str) -> str:
    value = datetime.fromisoformat(moment.replace("Z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(BEIJING).date().isoformat()


def our_entries(day: str) -> list[bills.BillEntry]:
    """Our payments (money taken that day) and refunds (money back that day), as bill entries."""
    entries = [bills.BillEntry("payment", s.channel, s.transaction_id, s.order_id, s.amount)
               for s in orders.settlements_on(day)]
    start, end = day_bounds(day)
    since = iso(datetime.fromisoformat(start) - timedelta(days=REFUND_LOOKBACK_DAYS))
    for refund in repository.refunds_between(since, end):     # the records payments.refunds_between lists
        if refund.state == rules.SUCCEEDED and _beijing_day(refund.refunded_at or refund.updated_at) == day:
            entries.append(bills.BillEntry("refund", refund.channel, refund.transaction_id, refund.order_id,
                                           int(refund.amount), refund_id=refund.refund_id))
    return entries


def _totals(entries: list[bills.BillEntry]) -> ReconciliationTotals:
    pays = [e.amount for e in entries if e.kind == "payment"]
    backs = [e.amount for e in entries if e.kind == "refund"]
    return ReconciliationTotals(payments=len(pays), payment_amount=sum(pays), refunds=len(backs),
                                refund_amount=sum(backs))


def _fetch(channel: str, day: str) -> bytes:
    settings = orders.commerce_settings()
    configured = creds.credentials()
    if channel == "wechat":
        if configured.wechatpay is None:
            raise ProviderError("wechat", "not_configured", "WeChat Pay is not configured", misconfigured=True)
        return ports.get().provider("wechatpay_bills").trade_bill(
            configured.wechatpay, bill_date=day, api_base=settings.wechatpay_api_base,
            timeout=settings.provider_timeout_seconds * 4)
    if configured.alipay is None:
        raise ProviderError("alipay", "not_configured", "Alipay is not configured", misconfigured=True)
    return ports.get().provider("alipay_bills").trade_bill(
        configured.alipay, bill_date=day, gateway=settings.alipay_pay_gateway,
        timeout=settings.provider_timeout_seconds * 4)


def reconcile_channel(channel: str, day: str,
                      ours: list[bills.BillEntry]) -> tuple[ProviderReconciliation, list[Discrepancy]]:
    mine = [e for e in ours if e.channel == channel]
    try:
        data = _fetch(channel, day)
    except ProviderError as exc:
        outcome = ("not_configured" if exc.code == "not_configured" else "bill_not_ready" if exc.code in NOT_READY
                   else "bill_unparsable" if exc.code in UNPARSABLE else "provider_error")
        logger.warning("reconciliation: no bill", extra={"channel": channel, "day": day, "code": exc.code,
                                                         "outcome": outcome})
        found = [Discrepancy(kind="bill_unparsable", channel=channel, detail=f"{exc.code}: {exc.message}")] \
            if outcome == "bill_unparsable" else []
        return ProviderReconciliation(channel=channel, outcome=outcome, code=exc.code, message=exc.message[:200],
                                      ours=_totals(mine), discrepancies=len(found)), found
    parse = bills.parse_wechat_tradebill(data) if channel == "wechat" else bills.parse_alipay_bill_zip(data)
    differences = bills.compare(channel, parse, mine)
    kinds = {(e.kind, e.channel, e.refund_id if e.kind == "refund" else e.transaction_id): e.kind
             for e in [*mine, *parse.entries]}
    found = [Discrepancy(kind=d.kind, channel=channel, entry=d.entry, order_id=d.order_id, ours=d.ours, bill=d.bill,
                         detail=d.detail,
                         entry_type=next((k for k in ("payment", "refund") if (k, channel, d.entry) in kinds), None))
             for d in differences]
    if parse.error is not None:
        outcome = "bill_unparsable"
        logger.error("reconciliation: bill does not parse", extra={"channel": channel, "day": day,
                                                                   "error": parse.error})
    else:
        outcome = "discrepancies" if found else "reconciled"
    if found and parse.error is None:
        logger.error("reconciliation: discrepancies", extra={
            "channel": channel, "day": day, "kinds": dict(Counter(d.kind for d in found))})
    return ProviderReconciliation(channel=channel, outcome=outcome, code="bill_unparsable" if parse.error else None,
                                  message=parse.error, ours=_totals(mine),
                                  bill=None if parse.error else _totals(parse.entries),
                                  discrepancies=len(found)), found


def run(day: str, *, trigger: Literal["schedule", "operator"] = "operator") -> ReconciliationReport:
    """Reconcile `day` (yyyy-mm-dd, Beijing) now and store the report, replacing an earlier one."""
    ours = our_entries(day)
    providers, listed, truncated = [], [], False
    for channel in CHANNELS:
        summary, found = reconcile_channel(channel, day, ours)
        providers.append(summary)
        listed += found[:MAX_LISTED]
        truncated = truncated or len(found) > MAX_LISTED
    previous = get(day)
    report = ReconciliationReport(date=day, ran_at=now_iso(), runs=(previous.runs + 1) if previous else 1,
                                  trigger=trigger, providers=providers, discrepancies=listed, truncated=truncated)
    bind_all()
    ReconciliationItem(*ReconciliationItem.key(day), day=day, report=report.model_dump(mode="json"),
                       ran_at=report.ran_at, runs=report.runs).save()      # one item per day: a re-run replaces
    logger.info("reconciliation stored", extra={"day": day, "trigger": trigger, "runs": report.runs,
                                                "outcomes": {p.channel: p.outcome for p in providers}})
    return report


def get(day: str) -> ReconciliationReport | None:
    bind_all()
    item = repository.get_reconciliation(day)
    return None if item is None else ReconciliationReport.model_validate(item.report)


def complete(report: ReconciliationReport | None) -> bool:
    """Every provider's bill was read (whatever it said)."""
    return report is not None and all(p.outcome in COMPLETE or p.outcome == "not_configured"
                                      for p in report.providers)


def scheduled(now: datetime | None = None) -> ReconciliationReport | None:
    """The schedule: yesterday (Beijing), unless its report is already complete (a later slot of the
    same day only comes back for a provider that had no bill yet)."""
    day = (beijing_today(now) - timedelta(days=1)).isoformat()
    existing = get(day)
    if complete(existing):
        return None
    return run(day, trigger="schedule")

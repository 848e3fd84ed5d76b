"""Payments' use cases with fakes: the provider adapters through the ports, orders through its face."""
from __future__ import annotations

from types import SimpleNamespace

import pytest

from livecommerce import orders
from livecommerce.payments import credentials, service
from livecommerce.payments.errors import NotificationRejected
from livecommerce.shared import ports


class FakeWeChatPay:
    def __init__(self, note=None, rejected: str | None = None) -> None:
        self.note, self.rejected = note, rejected

    def verify_notification(self, cfg, headers, body, **kw):
        if self.rejected:
            raise NotificationRejected(self.rejected)
        return self.note


class FakeAlipay:
    def __init__(self, note) -> None:
        self.note = note

    def verify_notification(self, cfg, params, **kw):
        return self.note


@pytest.fixture()
def applied(monkeypatch):
    calls: list[dict] = []
    monkeypatch.setattr(credentials, "credentials", lambda: SimpleNamespace(wechatpay=object(), alipay=object()))
    monkeypatch.setattr(orders, "apply_payment", lambda **kw: calls.append(kw) or "paid")
    return calls


def _success(**resource):
    return {"event_type": "TRANSACTION.SUCCESS",
            "resource": {"trade_state": "SUCCESS", "out_trade_no": "O1", "transaction_id": "T1",
                         "amount": {"total": 990}, "success_time": "2026-12-05T20:00:00+08:00", **resource}}


def test_a_verified_wechat_payment_is_applied_to_its_order_once_per_report(applied):
    with ports.use(providers={service.WECHATPAY: FakeWeChatPay(_success())}):
        status, body = service.wechat_notification({}, "{}")
    assert (status, body) == (200, {"code": "SUCCESS", "message": "paid"})
    assert applied == [{"channel": "wechat", "order_id": "O1", "transaction_id": "T1", "amount": 990,
                        "paid_at": "2026-12-05T12:00:00Z"}]


def test_an_unverified_wechat_report_changes_nothing(applied):
    with ports.use(providers={service.WECHATPAY: FakeWeChatPay(rejected="bad_signature")}):
        status, body = service.wechat_notification({}, "{}")
    assert status == 400 and body["code"] == "FAIL" and applied == []


def test_a_wechat_report_of_no_success_is_acknowledged_and_ignored(applied):
    with ports.use(providers={service.WECHATPAY: FakeWeChatPay(_success(trade_state="NOTPAY"))}):
        assert service.wechat_notification({}, "{}") == (200, {"code": "SUCCESS", "message": "ignored"})
    assert applied == []


def test_a_wechat_report_without_amount_is_refused(applied):
    with ports.use(providers={service.WECHATPAY: FakeWeChatPay(_success(amount={}))}):
        assert service.wechat_notification({}, "{}")[0] == 400
    assert applied == []


@pytest.mark.parametrize("total,fen", [("9.90", 990), ("0.015", -1)])
def test_alipay_amounts_are_exact_fen_or_refused_as_a_mismatch(applied, total, fen):
    note = {"trade_status": "TRADE_SUCCESS", "out_trade_no": "O1", "trade_no": "A1", "total_amount": total,
            "gmt_payment": "2026-12-05 20:00:00"}
    with ports.use(providers={service.ALIPAY: FakeAlipay(note)}):
        assert service.alipay_notification("a=b") == (200, "success")
    assert applied == [{"channel": "alipay", "order_id": "O1", "transaction_id": "A1", "amount": fen,
                        "paid_at": "2026-12-05T12:00:00Z"}]


def test_the_payer_comes_from_identity_when_not_sent(monkeypatch):
    from livecommerce import identity

    monkeypatch.setattr(identity, "payer_subject", lambda user_id, provider: f"{provider}:{user_id}")
    caller = SimpleNamespace(user_id="U1")
    assert service._payer(caller, "wechat", None) == "wechat:U1"
    assert service._payer(caller, "alipay", "given") == "given"

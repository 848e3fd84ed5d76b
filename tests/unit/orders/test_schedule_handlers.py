"""The schedule handlers compose the contexts' jobs through their faces; one failing job does not stop the rest."""
from __future__ import annotations

import importlib.util
from pathlib import Path

from livecommerce import catalog, marketing
from livecommerce.orders import jobs

ROOT = Path(__file__).resolve().parents[3]


def _handler(name: str):
    spec = importlib.util.spec_from_file_location(f"_handler_{name}", ROOT / "functions" / name / "handler.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_minute_tick_runs_every_context_job_and_counts_a_failure(monkeypatch):
    swept: list[tuple[str, int]] = []
    monkeypatch.setattr(jobs, "expire_overdue_orders", lambda **kw: 2)
    monkeypatch.setattr(jobs, "confirm_due_receipts", lambda: 4)
    monkeypatch.setattr(jobs, "run_due_flash_sale_steps", lambda: 1)
    monkeypatch.setattr(marketing, "publish_due_drops", lambda: (_ for _ in ()).throw(RuntimeError("down")))
    for owner, module in (("orders", jobs), ("catalog", catalog), ("marketing", marketing)):
        monkeypatch.setattr(module, "sweep_outbox",
                            lambda *, older_than_seconds, owner=owner: swept.append((owner, older_than_seconds)) or 1)
    result = _handler("order_expiry").tick(outbox_older_than_seconds=7)
    assert result == {"orders_expired": 2, "orders_received": 4, "sale_steps": 1, "drops_published": 0, "failed_steps": 1,
                      "outbox_swept": 3}
    assert sorted(swept) == [("catalog", 7), ("marketing", 7), ("orders", 7)]


def test_a_timer_runs_its_own_context_step(monkeypatch):
    from livecommerce.shared import timers

    seen = {}
    monkeypatch.setattr(timers, "run", lambda raw, runners: seen.update(raw=raw, runners=runners) or {"ran": None})
    assert _handler("commerce_timers").on_timer({"kind": "flash_sale"}) == {"ran": None}
    assert seen["runners"] == {"flash_sale": jobs.run_flash_sale_step, "coupon_drop": marketing.run_drop}

"""The report workbook (livecommerce.analytics.excel): sheets, formats, frozen headers, charts."""
from __future__ import annotations

import io
import zipfile
from decimal import Decimal

from openpyxl import load_workbook

from livecommerce.analytics.excel import PERCENT, YUAN, write_workbook, yuan
from livecommerce.analytics.report_models import (Funnel, Minute, ProductRow, Report, Summary, Traffic,
                                                  ViewerRow)


def sample_report() -> Report:
    summary = Summary(unique_viewers=3, views=4, average_watch_seconds=400, median_watch_seconds=300, peak_online=3,
                      peak_at="2026-12-05T12:01:00Z", new_followers=1, danmaku=5, likes=7, shares=1,
                      card_impressions=9, product_clicks=2, lottery_entrants=1, orders=2, paid_orders=1, gmv=12345,
                      average_order_value=12345, refunds=0, refund_amount=0)
    funnel = Funnel(viewers=3, clickers=2, orderers=2, payers=1, click_rate=0.6667, order_rate=1.0, pay_rate=0.5,
                    conversion_rate=0.3333)
    minutes = [Minute(minute=f"2026-12-05T12:0{i}:00Z", online=i + 1, orders=i % 2, gmv=(i % 2) * 12345, danmaku=i)
               for i in range(3)]
    products = [ProductRow(product_id="P1", impressions=9, clicks=2, orders=1, units=1, gmv=12345,
                           click_to_buy_rate=0.5)]
    traffic = Traffic(raw_viewers=5, accepted_viewers=3, raw_views=7, accepted_views=4, raw_beacons=50,
                      accepted_beacons=30, raw_likes=20, accepted_likes=7,
                      excluded_viewers_by_reason={"no_playback_token": 1, "impossible_heartbeat_rate": 1})
    return Report(room_id="R1", host_id="host-1", title="Demo", computed_at="2026-12-05T13:00:00Z", summary=summary,
                  funnel=funnel, per_minute=minutes, products=products, traffic=traffic)


def test_workbook_has_formatted_sheets_and_native_charts() -> None:
    viewers = [ViewerRow(user_id=f"u{i}", watch_seconds=60 * i, product_clicks=1, orders=1, paid_orders=1, amount=199,
                         coupons_used=0, tags=["buyer"]) for i in range(5)]
    out = io.BytesIO()
    write_workbook(sample_report(), viewers, out)
    data = out.getvalue()
    wb = load_workbook(io.BytesIO(data))
    assert wb.sheetnames == ["Summary", "Per minute", "Products", "Viewers"]
    for ws in wb.worksheets:
        assert ws.freeze_panes == "A2"
        assert ws["A1"].font.bold
        assert ws.column_dimensions["A"].width >= 20
    summary = {row[0].value: row[1] for row in wb["Summary"].iter_rows(min_row=2) if row[0].value}
    assert summary["GMV"].value == 123.45 and summary["GMV"].number_format == YUAN
    assert summary["Conversion (payers / viewers)"].number_format == PERCENT
    assert summary["Excluded viewers: no_playback_token"].value == 1
    products = wb["Products"]
    assert products["F2"].value == 123.45 and products["G2"].number_format == PERCENT
    assert wb["Per minute"].max_row == 4 and wb["Viewers"].max_row == 6
    assert wb["Viewers"]["F2"].number_format == YUAN
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        charts = [n for n in z.namelist() if n.startswith("xl/charts/chart")]
        kinds = "".join(z.read(n).decode() for n in charts)
    assert len(charts) == 3                             # funnel, online curve, GMV per minute
    assert kinds.count("<lineChart>") == 1 and kinds.count("<barChart>") == 2


def test_yuan_is_exact() -> None:
    assert yuan(1) == Decimal("0.01") and yuan(123456789) == Decimal("1234567.89")

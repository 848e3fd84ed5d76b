"""The post-live report as an Excel workbook (openpyxl, no I/O beyond the file object given).

Four sheets: Summary (the figures and the funnel), Per minute, Products, Viewers; money in yuan
(fen / 100, two decimals, "¥" format), rates as percentages, the header row frozen, column widths
set, and native Excel charts: the online curve and GMV per minute (Per minute) and the funnel
(Summary). Written in openpyxl's write-only mode, rows streamed, so 100,000 viewers fit in a
Lambda's memory; the caller stores the file in S3 and hands out a presigned link (a workbook of
that size is far above API Gateway's 6 MB / 10 MB answer limits).
"""
from __future__ import annotations

from decimal import Decimal
from typing import IO, Iterable

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.chart import BarChart, LineChart, Reference
from openpyxl.styles import Alignment, Font, PatternFill

from livecommerce.analytics.report_models import Report, ViewerRow

YUAN = '"¥"#,##0.00'
PERCENT = "0.00%"
INTEGER = "#,##0"
_HEADER_FONT = Font(bold=True, color="FFFFFF")
_HEADER_FILL = PatternFill("solid", fgColor="305496")


def yuan(fen: int) -> Decimal:
    """Fen as yuan, exact (Decimal): 12345 -> 123.45."""
    return Decimal(fen) / 100


def _header(ws, names: Iterable[str]) -> list[WriteOnlyCell]:
    cells = []
    for name in names:
        cell = WriteOnlyCell(ws, value=name)
        cell.font = _HEADER_FONT
        cell.fill = _HEADER_FILL
        cell.alignment = Alignment(horizontal="center")
        cells.append(cell)
    return cells


def _cell(ws, value, number_format: str | None = None) -> WriteOnlyCell:
    cell = WriteOnlyCell(ws, value=value)
    if number_format:
        cell.number_format = number_format
    return cell


def _widths(ws, widths: Iterable[int]) -> None:
    for index, width in enumerate(widths):
        ws.column_dimensions[chr(ord("A") + index)].width = width


def write_workbook(report: Report, viewers: Iterable[ViewerRow], out: IO[bytes]) -> None:
    """Write the workbook for `report` and its viewer rows to `out`."""
    wb = Workbook(write_only=True)
    _summary(wb, report)
    _per_minute(wb, report)
    _products(wb, report)
    _viewers(wb, viewers)
    wb.save(out)


def _summary(wb: Workbook, report: Report) -> None:
    ws = wb.create_sheet("Summary")
    ws.freeze_panes = "A2"
    _widths(ws, (30, 22))
    s, f, t = report.summary, report.funnel, report.traffic
    rows: list[tuple[str, object, str | None]] = [
        ("Room", report.room_id, None), ("Title", report.title, None),
        ("Started at (UTC)", report.started_at or "", None), ("Ended at (UTC)", report.ended_at or "", None),
        ("Unique viewers", s.unique_viewers, INTEGER), ("Views", s.views, INTEGER),
        ("Average watch (s)", s.average_watch_seconds, INTEGER), ("Median watch (s)", s.median_watch_seconds, INTEGER),
        ("Peak online", s.peak_online, INTEGER), ("Peak at (UTC)", s.peak_at or "", None),
        ("New followers", s.new_followers, INTEGER), ("Danmaku", s.danmaku, INTEGER), ("Likes", s.likes, INTEGER),
        ("Shares", s.shares, INTEGER), ("Card impressions", s.card_impressions, INTEGER),
        ("Product clicks", s.product_clicks, INTEGER), ("Lottery entrants", s.lottery_entrants, INTEGER),
        ("Orders placed", s.orders, INTEGER), ("Orders paid", s.paid_orders, INTEGER),
        ("GMV", yuan(s.gmv), YUAN), ("Average order value", yuan(s.average_order_value), YUAN),
        ("Refunds", s.refunds, INTEGER), ("Refunded", yuan(s.refund_amount), YUAN),
        ("Click rate", f.click_rate, PERCENT), ("Order rate (of clickers)", f.order_rate, PERCENT),
        ("Pay rate (of orderers)", f.pay_rate, PERCENT), ("Conversion (payers / viewers)", f.conversion_rate, PERCENT),
        ("Viewers raw / accepted", f"{t.raw_viewers} / {t.accepted_viewers}", None),
        ("Views raw / accepted", f"{t.raw_views} / {t.accepted_views}", None),
        ("Likes raw / accepted", f"{t.raw_likes} / {t.accepted_likes}", None),
    ]
    rows += [(f"Excluded viewers: {reason}", count, INTEGER)
             for reason, count in sorted(t.excluded_viewers_by_reason.items())]
    ws.append(_header(ws, ("Figure", "Value")))
    for name, value, fmt in rows:
        ws.append([name, _cell(ws, value, fmt)])
    # The funnel table below, and its chart.
    ws.append([])
    first = len(rows) + 3
    ws.append(_header(ws, ("Funnel", "Viewers")))
    for name, value in (("Viewers", f.viewers), ("Clicked a product", f.clickers),
                        ("Placed an order", f.orderers), ("Paid", f.payers)):
        ws.append([name, _cell(ws, value, INTEGER)])
    chart = BarChart()
    chart.type = "bar"
    chart.title = "Funnel"
    chart.y_axis.title = "Viewers"
    chart.x_axis.scaling.orientation = "maxMin"   # top stage first
    chart.legend = None
    chart.add_data(Reference(ws, min_col=2, min_row=first, max_row=first + 4), titles_from_data=True)
    chart.set_categories(Reference(ws, min_col=1, min_row=first + 1, max_row=first + 4))
    ws.add_chart(chart, "D2")


def _per_minute(wb: Workbook, report: Report) -> None:
    ws = wb.create_sheet("Per minute")
    ws.freeze_panes = "A2"
    _widths(ws, (22, 10, 10, 14, 10))
    ws.append(_header(ws, ("Minute (UTC)", "Online", "Orders", "GMV", "Danmaku")))
    for m in report.per_minute:
        ws.append([m.minute, _cell(ws, m.online, INTEGER), _cell(ws, m.orders, INTEGER),
                   _cell(ws, yuan(m.gmv), YUAN), _cell(ws, m.danmaku, INTEGER)])
    last = len(report.per_minute) + 1
    if last < 2:
        return
    minutes = Reference(ws, min_col=1, min_row=2, max_row=last)
    online = LineChart()
    online.title = "Online viewers"
    online.y_axis.title = "Viewers"
    online.add_data(Reference(ws, min_col=2, min_row=1, max_row=last), titles_from_data=True)
    online.set_categories(minutes)
    ws.add_chart(online, "G2")
    gmv = BarChart()
    gmv.title = "GMV per minute (¥)"
    gmv.add_data(Reference(ws, min_col=4, min_row=1, max_row=last), titles_from_data=True)
    gmv.set_categories(minutes)
    ws.add_chart(gmv, "G20")


def _products(wb: Workbook, report: Report) -> None:
    ws = wb.create_sheet("Products")
    ws.freeze_panes = "A2"
    _widths(ws, (30, 12, 10, 10, 10, 14, 14))
    ws.append(_header(ws, ("Product", "Impressions", "Clicks", "Orders", "Units", "GMV", "Click to buy")))
    for p in report.products:
        ws.append([p.product_id, _cell(ws, p.impressions, INTEGER), _cell(ws, p.clicks, INTEGER),
                   _cell(ws, p.orders, INTEGER), _cell(ws, p.units, INTEGER), _cell(ws, yuan(p.gmv), YUAN),
                   _cell(ws, p.click_to_buy_rate, PERCENT)])


def _viewers(wb: Workbook, viewers: Iterable[ViewerRow]) -> None:
    ws = wb.create_sheet("Viewers")
    ws.freeze_panes = "A2"
    _widths(ws, (30, 12, 10, 10, 10, 14, 10, 50))
    ws.append(_header(ws, ("Viewer", "Watch (s)", "Clicks", "Orders", "Paid", "Amount", "Coupons", "Tags")))
    for v in viewers:
        ws.append([v.user_id, v.watch_seconds, v.product_clicks, v.orders, v.paid_orders,
                   _cell(ws, yuan(v.amount), YUAN), v.coupons_used, ", ".join(v.tags)])

"""The providers' daily bills, read and compared with our records: pure, no I/O.

WeChat Pay v3 trade bill (`GET /v3/bill/tradebill`, then its download_url): CSV, UTF-8, a header
row, one row per payment (交易状态 SUCCESS) or refund (REFUND), every value prefixed with a
backtick, then the summary header (总交易单数,...) and its row. Amounts in yuan with two decimals.

Alipay (`alipay.data.dataservice.bill.downloadurl.query`, bill_type trade): a zip of CSV files in
GBK; the 业务明细 file has `#` comment lines, a header row, one row per 交易 or 退款 (negative
amounts, 退款批次号/请求号 = our out_request_no), then `#` summary lines.

A bill that does not parse is not an exception: `BillParse.error` says why, and the comparison
records it as a discrepancy.
"""
from __future__ import annotations

import csv
import io
import zipfile
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

WECHAT_COLUMNS = ("交易时间", "公众账号ID", "商户号", "特约商户号", "设备号", "微信订单号", "商户订单号", "用户标识",
                  "交易类型", "交易状态", "付款银行", "货币种类", "应结订单金额", "代金券金额", "微信退款单号",
                  "商户退款单号", "退款金额", "充值券退款金额", "退款类型", "退款状态", "商品名称", "商户数据包",
                  "手续费", "费率", "订单金额", "申请退款金额", "费率备注")
WECHAT_SUMMARY = ("总交易单数", "应结订单总金额", "退款总金额", "充值券退款总金额", "手续费总金额", "订单总金额",
                  "申请退款总金额")
ALIPAY_COLUMNS = ("支付宝交易号", "商户订单号", "业务类型", "商品名称", "创建时间", "完成时间", "门店编号", "门店名称",
                  "操作员", "终端号", "对方账户", "订单金额（元）", "商家实收（元）", "支付宝红包（元）", "集分宝（元）",
                  "支付宝优惠（元）", "商家优惠（元）", "券核销金额（元）", "券名称", "商家红包消费金额（元）",
                  "卡消费金额（元）", "退款批次号/请求号", "服务费（元）", "分润（元）", "备注")


@dataclass(frozen=True)
class BillEntry:
    """One payment or refund as a bill (or our records) state it. Amounts in fen, positive."""

    kind: str                 # payment | refund
    channel: str              # wechat | alipay
    transaction_id: str       # the provider's payment transaction
    order_id: str             # our out_trade_no
    amount: int
    refund_id: str | None = None     # ours (out_refund_no / out_request_no)

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.kind, self.channel, self.refund_id if self.kind == "refund" else self.transaction_id)


@dataclass
class BillParse:
    entries: list[BillEntry] = field(default_factory=list)
    error: str | None = None


def _fen(text: str) -> int:
    value = Decimal(text.strip())
    fen = value * 100
    if not value.is_finite() or fen != fen.to_integral_value():
        raise InvalidOperation(text)
    return abs(int(fen))


def parse_wechat_tradebill(data: bytes | str) -> BillParse:
    try:
        text = data.decode("utf-8-sig") if isinstance(data, bytes) else data
        rows = list(csv.reader(io.StringIO(text)))
    except (UnicodeDecodeError, csv.Error) as exc:
        return BillParse(error=f"unreadable: {exc}")
    rows = [r for r in rows if any(cell.strip() for cell in r)]
    if not rows or tuple(c.strip() for c in rows[0]) != WECHAT_COLUMNS:
        return BillParse(error="no trade bill header")
    try:
        end = next(i for i, r in enumerate(rows) if r and r[0].strip() == WECHAT_SUMMARY[0])
    except StopIteration:
        return BillParse(error="no summary lines")
    parse = BillParse()
    index = {name: i for i, name in enumerate(WECHAT_COLUMNS)}
    try:
        for row in rows[1:end]:
            if len(row) != len(WECHAT_COLUMNS) or not all(cell.startswith("`") for cell in row):
                return BillParse(error=f"malformed row: {','.join(row)[:80]}")
            cell = {name: row[i][1:].strip() for name, i in index.items()}
            if cell["交易状态"] == "SUCCESS":
                parse.entries.append(BillEntry("payment", "wechat", cell["微信订单号"], cell["商户订单号"],
                                               _fen(cell["应结订单金额"])))
            elif cell["交易状态"] == "REFUND":
                parse.entries.append(BillEntry("refund", "wechat", cell["微信订单号"], cell["商户订单号"],
                                               _fen(cell["退款金额"]), refund_id=cell["商户退款单号"]))
        summary = [c.lstrip("`").strip() for c in rows[end + 1]] if len(rows) > end + 1 else []
        if len(summary) != len(WECHAT_SUMMARY) or int(summary[0]) != len(parse.entries):
            return BillParse(error="summary does not match the rows")
    except (InvalidOperation, ValueError, IndexError) as exc:
        return BillParse(error=f"bad value: {exc}")
    return parse


def parse_alipay_bill_zip(data: bytes) -> BillParse:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = [n for n in archive.namelist() if n.endswith(".csv") and "汇总" not in n]
            if not names:
                return BillParse(error="no detail file in the zip")
            text = archive.read(names[0]).decode("gbk")
    except (zipfile.BadZipFile, UnicodeDecodeError, KeyError) as exc:
        return BillParse(error=f"unreadable: {exc}")
    rows = [r for r in csv.reader(io.StringIO(text)) if r and not r[0].startswith("#")]
    if not rows or tuple(c.strip() for c in rows[0]) != ALIPAY_COLUMNS:
        return BillParse(error="no bill detail header")
    index = {name: i for i, name in enumerate(ALIPAY_COLUMNS)}
    parse = BillParse()
    try:
        for row in rows[1:]:
            if len(row) != len(ALIPAY_COLUMNS):
                return BillParse(error=f"malformed row: {','.join(row)[:80]}")
            cell = {name: row[i].strip() for name, i in index.items()}
            if cell["业务类型"] == "交易":
                parse.entries.append(BillEntry("payment", "alipay", cell["支付宝交易号"], cell["商户订单号"],
                                               _fen(cell["订单金额（元）"])))
            elif cell["业务类型"] == "退款":
                parse.entries.append(BillEntry("refund", "alipay", cell["支付宝交易号"], cell["商户订单号"],
                                               _fen(cell["订单金额（元）"]), refund_id=cell["退款批次号/请求号"]))
    except (InvalidOperation, ValueError) as exc:
        return BillParse(error=f"bad value: {exc}")
    return parse


@dataclass(frozen=True)
class Discrepancy:
    kind: str                 # missing_in_bill | extra_in_bill | amount_mismatch | bill_unparsable | bill_unavailable
    channel: str
    entry: str | None = None  # payment/refund id
    order_id: str | None = None
    ours: int | None = None
    bill: int | None = None
    detail: str | None = None


def compare(channel: str, bill: BillParse, ours: list[BillEntry]) -> list[Discrepancy]:
    """What differs between a channel's bill and our payments and refunds of that day."""
    if bill.error is not None:
        return [Discrepancy("bill_unparsable", channel, detail=bill.error)]
    theirs = {e.key: e for e in bill.entries}
    mine = {e.key: e for e in ours if e.channel == channel}
    found: list[Discrepancy] = []
    for k in sorted(mine.keys() | theirs.keys()):
        a, b = mine.get(k), theirs.get(k)
        if b is None:
            found.append(Discrepancy("missing_in_bill", channel, k[2], a.order_id, ours=a.amount))
        elif a is None:
            found.append(Discrepancy("extra_in_bill", channel, k[2], b.order_id, bill=b.amount))
        elif a.amount != b.amount:
            found.append(Discrepancy("amount_mismatch", channel, k[2], a.order_id, ours=a.amount, bill=b.amount))
    return found


# -- writing bills (the local stand-ins serve their records in the providers' formats) ----------

def _yuan(fen: int) -> str:
    return f"{fen // 100}.{fen % 100:02d}"


def wechat_tradebill_csv(entries: list[BillEntry], *, day: str, mchid: str, appid: str) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(WECHAT_COLUMNS)
    paid = refunded = 0
    for e in entries:
        refund = e.kind == "refund"
        values = {name: "" for name in WECHAT_COLUMNS}
        values.update({"交易时间": f"{day} 12:00:00", "公众账号ID": appid, "商户号": mchid, "特约商户号": "0",
                       "微信订单号": e.transaction_id, "商户订单号": e.order_id, "用户标识": "o-local",
                       "交易类型": "JSAPI", "交易状态": "REFUND" if refund else "SUCCESS", "付款银行": "OTHERS",
                       "货币种类": "CNY", "应结订单金额": "0.00" if refund else _yuan(e.amount), "代金券金额": "0.00",
                       "微信退款单号": ("50" + (e.refund_id or "")) if refund else "0",
                       "商户退款单号": e.refund_id if refund else "0",
                       "退款金额": _yuan(e.amount) if refund else "0.00", "充值券退款金额": "0.00",
                       "退款类型": "ORIGINAL" if refund else "", "退款状态": "SUCCESS" if refund else "",
                       "商品名称": "直播商品", "手续费": "0.00", "费率": "0.60%",
                       "订单金额": "0.00" if refund else _yuan(e.amount),
                       "申请退款金额": _yuan(e.amount) if refund else "0.00"})
        writer.writerow(["`" + values[name] for name in WECHAT_COLUMNS])
        if refund:
            refunded += e.amount
        else:
            paid += e.amount
    writer.writerow(WECHAT_SUMMARY)
    writer.writerow(["`" + v for v in (str(len(entries)), _yuan(paid), _yuan(refunded), "0.00", "0.00", _yuan(paid),
                                        _yuan(refunded))])
    return out.getvalue()


def alipay_bill_zip(entries: list[BillEntry], *, day: str, pid: str) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    out.write(f"#支付宝业务明细查询\r\n#账号：[{pid}]\r\n#起始日期：[{day} 00:00:00]   终止日期：[{day} 23:59:59]\r\n")
    out.write("#-----------------------------------------业务明细列表----------------------------------------\r\n")
    writer.writerow(ALIPAY_COLUMNS)
    for e in entries:
        sign = "-" if e.kind == "refund" else ""
        values = {name: "" for name in ALIPAY_COLUMNS}
        values.update({"支付宝交易号": e.transaction_id, "商户订单号": e.order_id,
                       "业务类型": "退款" if e.kind == "refund" else "交易", "商品名称": "直播商品",
                       "创建时间": f"{day} 12:00:00", "完成时间": f"{day} 12:00:01",
                       "订单金额（元）": sign + _yuan(e.amount), "商家实收（元）": sign + _yuan(e.amount),
                       "退款批次号/请求号": e.refund_id or ""})
        writer.writerow([values[name] for name in ALIPAY_COLUMNS])
    out.write("#-----------------------------------------业务明细列表结束------------------------------------\r\n")
    out.write(f"#交易合计：{sum(1 for e in entries if e.kind == 'payment')}笔\r\n#导出时间：[{day} 23:59:59]\r\n")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(f"{pid}_{day.replace('-', '')}_业务明细.csv", out.getvalue().encode("gbk"))
        archive.writestr(f"{pid}_{day.replace('-', '')}_业务明细(汇总).csv", "#汇总\r\n".encode("gbk"))
    return buffer.getvalue()

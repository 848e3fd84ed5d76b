"""WeChat subscribe-message data values: each key's type (the part before its number: `thing1`,
`time2`, `amount3`, `character_string4`) has a rule for what its value may hold. A value that
breaks it makes `subscribeMessage.send` answer 47003 (argument invalid), so every value is made
by one of these functions and checked by `valid` (pure; property-tested).

The rules (developers.weixin.qq.com, 订阅消息 / 模板参数值内容限制):

  thing             20 characters at most: Chinese, digits, letters or symbols
  character_string  32 at most: digits, letters or symbols (no Chinese, no spaces)
  number            32 at most: digits, optionally with a decimal point
  amount            a currency sign, then at most 10 digits, optionally decimals, optionally 元 at the end
  time              24-hour time, optionally with the date: 2026年05月01日 20:00
  phrase            5 Chinese characters at most

Times are shown in China Standard Time (UTC+8, no daylight saving), the viewers' clock; the API
keeps UTC. SMS texts (`sms`) are one line, at most 70 characters of body after the signature
`[LiveCommerce]` (one SMS segment of UCS-2 text).
"""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

THING_MAX = 20
CHARACTER_STRING_MAX = 32
NUMBER_MAX = 32
AMOUNT_DIGITS_MAX = 10
PHRASE_MAX = 5
SMS_BODY_MAX = 70
SMS_SIGNATURE = "[LiveCommerce]"
CST = timezone(timedelta(hours=8), "CST")

_CJK = r"\u3400-\u4dbf\u4e00-\u9fff"
_SYMBOLS = r"!-/:-@\[-`{-~"          # printable ASCII punctuation
RULES: dict[str, re.Pattern[str]] = {
    "thing": re.compile(r"^[^\x00-\x1f\x7f]{1,%d}$" % THING_MAX),
    "character_string": re.compile(r"^[0-9A-Za-z%s]{1,%d}$" % (_SYMBOLS, CHARACTER_STRING_MAX)),
    "number": re.compile(r"^(?=.{1,%d}$)[0-9]+(\.[0-9]+)?$" % NUMBER_MAX),
    "amount": re.compile(r"^[¥￥$]\d{1,%d}(\.\d{1,2})?元?$" % AMOUNT_DIGITS_MAX),
    "time": re.compile(r"^(\d{4}年\d{2}月\d{2}日 )?([01]\d|2[0-3]):[0-5]\d$"),
    "phrase": re.compile(r"^[%s]{1,%d}$" % (_CJK, PHRASE_MAX)),
}
_KEY = re.compile(r"^([a-z_]+?)(\d+)$")


def key_type(key: str) -> str:
    """`thing1` -> thing, `character_string12` -> character_string."""
    match = _KEY.match(key)
    if not match or match.group(1) not in RULES:
        raise ValueError(f"not a subscribe-message data key: {key!r}")
    return match.group(1)


def valid(key: str, value: str) -> bool:
    return bool(RULES[key_type(key)].match(value))


def valid_data(data: dict[str, str]) -> bool:
    return all(valid(key, value) for key, value in data.items())


def thing(text: object, fallback: str = "-") -> str:
    """Control characters and runs of white space become one space; longer than 20 is cut
    with an ellipsis; empty becomes the fallback."""
    clean = " ".join("".join(ch if ch.isprintable() else " " for ch in str(text or "")).split())
    if not clean:
        clean = fallback
    return clean if len(clean) <= THING_MAX else clean[:THING_MAX - 1] + "…"


def character_string(text: object, fallback: str = "-") -> str:
    """Only digits, letters and ASCII symbols, at most 32 (a tracking or order number)."""
    clean = re.sub(r"[^0-9A-Za-z%s]" % _SYMBOLS, "", str(text or ""))[:CHARACTER_STRING_MAX]
    return clean or fallback


def amount(fen: int) -> str:
    """Integer fen as ¥yuan.jiao-fen (exact: no float); capped at 10 integer digits."""
    fen = max(0, int(fen))
    yuan, cents = divmod(fen, 100)
    yuan = min(yuan, 10 ** AMOUNT_DIGITS_MAX - 1)
    return f"¥{yuan}.{cents:02d}"


def parse_time(text: str) -> datetime:
    moment = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment


def time_value(text: str | None) -> str:
    """An ISO 8601 moment as WeChat's time value in China Standard Time: 2026年05月01日 20:00."""
    if not text:
        return "00:00"
    return parse_time(text).astimezone(CST).strftime("%Y年%m月%d日 %H:%M")


def phrase(text: str, fallback: str = "通知") -> str:
    clean = "".join(re.findall("[%s]" % _CJK, str(text or "")))[:PHRASE_MAX]
    return clean or fallback


def sms(body: str) -> str:
    """One SMS segment: the signature, then the body on one line, cut to SMS_BODY_MAX."""
    line = " ".join(str(body or "").split())
    if len(line) > SMS_BODY_MAX:
        line = line[:SMS_BODY_MAX - 1] + "…"
    return f"{SMS_SIGNATURE}{line}"

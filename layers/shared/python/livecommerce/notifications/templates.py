"""Notice kinds and their templates: one entry per kind, the same for every channel.

A kind says what the notice is for; its template gives the WeChat subscribe-message
template id and data keys (`thing1`, `time2`, ... as the template chosen in the
mini-program console names them), the Alipay template id and the SMS text. Template ids
come from the environment (`<CHANNEL>_TEMPLATE_<KIND>`, e.g. WECHAT_TEMPLATE_REMINDER_15MIN)
with the local stand-ins' ids as defaults, so a deployment sets the ids its console gave.

reminder_15min and live_now are used by the reservation reminder; the others are
placeholders that the replay and post-live work fills (`ready=False`: the state machine
of such a kind refuses to run until its template is written).
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Callable

# WeChat subscribe-message data values: thing.DATA at most 20 characters, time.DATA a time.
THING_MAX = 20


@dataclass(frozen=True)
class Template:
    kind: str
    title: str
    # fields of the notice -> {key: value} for the subscribe message's `data`
    wechat_data: Callable[[dict], dict[str, str]]
    sms_text: Callable[[dict], str]
    page: Callable[[dict], str]                # the mini-program page the notice opens
    ready: bool = True

    def template_id(self, channel: str) -> str:
        return os.environ.get(f"{channel.upper()}_TEMPLATE_{self.kind.upper()}", f"local-{channel}-{self.kind}")


def _thing(text: str) -> str:
    text = " ".join(str(text or "").split())
    return text if len(text) <= THING_MAX else text[:THING_MAX - 1] + "…"


def _start_text(fields: dict) -> str:
    # "2024-05-01T12:00:00Z" -> "2024-05-01 12:00" (UTC, as every time in the API)
    start = str(fields.get("scheduled_start", ""))
    return start[:16].replace("T", " ") + " UTC" if start else ""


def _room_page(fields: dict) -> str:
    return f"pages/room/room?room_id={fields.get('room_id', '')}"


def _placeholder(kind: str, title: str) -> Template:
    return Template(kind=kind, title=title, ready=False,
                    wechat_data=lambda f: {"thing1": _thing(f.get("title", title))},
                    sms_text=lambda f: f"{title}: {f.get('title', '')}",
                    page=_room_page)


TEMPLATES: dict[str, Template] = {t.kind: t for t in (
    Template(
        kind="reminder_15min", title="Live in 15 minutes",
        wechat_data=lambda f: {"thing1": _thing(f.get("title", "")), "time2": _start_text(f),
                               "thing3": _thing("Starts in 15 minutes")},
        sms_text=lambda f: f"[LiveCommerce] \"{_thing(f.get('title', ''))}\" starts at {_start_text(f)}, "
                           "in 15 minutes. Reply TD to unsubscribe.",
        page=_room_page),
    Template(
        kind="live_now", title="Live now",
        wechat_data=lambda f: {"thing1": _thing(f.get("title", "")), "time2": _start_text(f),
                               "thing3": _thing("Live now")},
        sms_text=lambda f: f"[LiveCommerce] \"{_thing(f.get('title', ''))}\" is live now. Reply TD to unsubscribe.",
        page=_room_page),
    _placeholder("replay_ready", "Replay ready"),
    _placeholder("non_buyer", "Replay and coupon"),
    _placeholder("order_summary", "Your order summary"),
    _placeholder("shipped", "Order shipped"),
    _placeholder("delivered", "Order delivered"),
    _placeholder("new_room_preview", "New live coming"),
)}

KINDS = tuple(TEMPLATES)
REMINDER_KINDS = ("reminder_15min", "live_now")


def template(kind: str) -> Template:
    try:
        return TEMPLATES[kind]
    except KeyError:
        raise ValueError(f"unknown notice kind {kind!r}") from None

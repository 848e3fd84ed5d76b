"""Notice kinds and their templates: one entry per kind, the same for every channel.

A kind says what the notice is for; its template gives the WeChat subscribe-message
template id and data keys (`thing1`, `time2`, ... as the template chosen in the
mini-program console names them), the Alipay template id and the SMS text. Template ids
come from the environment (`<CHANNEL>_TEMPLATE_<KIND>`, e.g. WECHAT_TEMPLATE_REMINDER_15MIN)
with the local stand-ins' ids (`local-<channel>-<kind>`) as defaults on the local stage only: a
deployed stage gets the ids its consoles gave from its stage configuration (cdk/config.py
`wechat_notice_templates` / `alipay_notice_templates`), and a function that sends notices refuses to
run there while any id is missing (`require_template_ids`; WeChat and Alipay refuse a placeholder id).

reminder_15min and live_now are used by the reservation reminder; non_buyer, order_summary,
shipped, delivered and new_room_preview by the post-live notices (notifications.notices), their
values made by the `values` rules. Every time value is `values.time_value` (WeChat's `time` rule,
China Standard Time). There is no `replay_ready` kind: the replay link goes to the viewers who
watched and clicked without buying (non_buyer); no flow of issue 13 notifies reservers of a replay.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Callable

from livecommerce.notifications import values
from livecommerce.shared.settings import DEPLOYED_STAGES

# WeChat subscribe-message data values: thing.DATA at most 20 characters, time.DATA a time.
THING_MAX = values.THING_MAX


@dataclass(frozen=True)
class Template:
    kind: str
    title: str
    # fields of the notice -> {key: value} for the subscribe message's `data`
    wechat_data: Callable[[dict], dict[str, str]]
    sms_text: Callable[[dict], str]
    page: Callable[[dict], str]                # the mini-program page the notice opens

    def template_id(self, channel: str) -> str:
        configured = os.environ.get(template_env_var(channel, self.kind), "")
        if configured and not configured.startswith(PLACEHOLDER_PREFIX):
            return configured
        if os.environ.get("STAGE") in DEPLOYED_STAGES:
            raise TemplateIdsMissing(f"{template_env_var(channel, self.kind)} is not set on stage "
                                     f"{os.environ['STAGE']}: {channel} refuses a placeholder template id")
        return f"{PLACEHOLDER_PREFIX}{channel}-{self.kind}"


CHANNELS = ("wechat", "alipay")       # the channels whose notices name a template id (SMS has its text)
PLACEHOLDER_PREFIX = "local-"         # the local stand-ins' ids: local-wechat-<kind>, local-alipay-<kind>


class TemplateIdsMissing(RuntimeError):
    """A deployed stage without the template id of a notice kind (its stage configuration lacks it)."""


def template_env_var(channel: str, kind: str) -> str:
    return f"{channel.upper()}_TEMPLATE_{kind.upper()}"


def missing_template_ids(environ=None) -> list[str]:
    """The <CHANNEL>_TEMPLATE_<KIND> variables unset, empty or holding a placeholder id."""
    environ = os.environ if environ is None else environ
    return [template_env_var(channel, kind) for channel in CHANNELS for kind in KINDS
            if not environ.get(template_env_var(channel, kind), "")
            or environ[template_env_var(channel, kind)].startswith(PLACEHOLDER_PREFIX)]


def require_template_ids(environ=None) -> None:
    """Called first by every function that sends notices: on a deployed stage, refuse to run without
    every kind's template id on both channels (the stage configuration sets them, cdk/config.py)."""
    environ = os.environ if environ is None else environ
    stage = environ.get("STAGE")
    if stage not in DEPLOYED_STAGES:
        return
    missing = missing_template_ids(environ)
    if missing:
        raise TemplateIdsMissing(f"stage {stage} has no notice template id in {', '.join(missing)}: set "
                                 "wechat_notice_templates / alipay_notice_templates in cdk/config.py and deploy")


def _start_text(fields: dict) -> str:
    # "2026-05-01T12:00:00Z" -> "2026年05月01日 20:00" (WeChat's time value, China Standard Time)
    return values.time_value(fields.get("scheduled_start"))


def _room_page(fields: dict) -> str:
    return f"pages/room/room?room_id={fields.get('room_id', '')}"


def _coupon_text(fields: dict) -> str:
    if not fields.get("coupon_id"):
        return "感谢观看"
    return f"送你{values.amount(int(fields.get('coupon_amount') or 0))}优惠券"


TEMPLATES: dict[str, Template] = {t.kind: t for t in (
    Template(
        kind="reminder_15min", title="Live in 15 minutes",
        wechat_data=lambda f: {"thing1": values.thing(f.get("title"), "直播"), "time2": _start_text(f),
                               "thing3": values.thing("还有15分钟开播")},
        sms_text=lambda f: values.sms(f"“{values.thing(f.get('title'), '直播')}”将于{_start_text(f)}开播，"
                                      "还有15分钟。回复TD退订"),
        page=_room_page),
    Template(
        kind="live_now", title="Live now",
        wechat_data=lambda f: {"thing1": values.thing(f.get("title"), "直播"), "time2": _start_text(f),
                               "thing3": values.thing("正在直播")},
        sms_text=lambda f: values.sms(f"“{values.thing(f.get('title'), '直播')}”正在直播。回复TD退订"),
        page=_room_page),
    # Post-live notices (notifications.notices): every value made by a `values` rule.
    Template(
        kind="non_buyer", title="Replay and coupon",
        wechat_data=lambda f: {"thing1": values.thing(f.get("title"), "直播回放"),
                               "thing2": values.thing("回放已上线，点击观看" if f.get("replay_url") else "直播已结束，点击查看"),
                               "thing3": values.thing(_coupon_text(f))},
        sms_text=lambda f: values.sms(f"“{values.thing(f.get('title'))}”" + (
            "的回放已上线" if f.get("replay_url") else "已结束") + (
            f"，{_coupon_text(f)}" if f.get("coupon_id") else "") + "。回复TD退订"),
        page=lambda f: (f"pages/replay/replay?room_id={f.get('room_id', '')}" if f.get("replay_url")
                        else _room_page(f)) + (f"&coupon_id={f['coupon_id']}" if f.get("coupon_id") else "")),
    Template(
        kind="order_summary", title="Your order summary",
        wechat_data=lambda f: {"thing1": values.thing(f.get("title"), "直播订单"),
                               "number2": str(max(0, int(f.get("orders") or 0))),
                               "amount3": values.amount(int(f.get("amount") or 0))},
        sms_text=lambda f: values.sms(f"你在“{values.thing(f.get('title'))}”下单{int(f.get('orders') or 0)}笔，"
                                      f"共{values.amount(int(f.get('amount') or 0))}。回复TD退订"),
        page=lambda f: "pages/orders/orders"),
    Template(
        kind="shipped", title="Order shipped",
        wechat_data=lambda f: {"character_string1": values.character_string(f.get("order_id")),
                               "thing2": values.thing(f.get("carrier_name"), "快递"),
                               "character_string3": values.character_string(f.get("tracking_number")),
                               "time4": values.time_value(f.get("shipped_at"))},
        sms_text=lambda f: values.sms(f"订单{values.character_string(f.get('order_id'))}已发货，"
                                      f"{values.thing(f.get('carrier_name'), '快递')} "
                                      f"{values.character_string(f.get('tracking_number'))}。回复TD退订"),
        page=lambda f: f"pages/order/order?order_id={f.get('order_id', '')}"),
    Template(
        kind="delivered", title="Order delivered",
        wechat_data=lambda f: {"character_string1": values.character_string(f.get("order_id")),
                               "time2": values.time_value(f.get("delivered_at")),
                               "thing3": values.thing("已签收，欢迎评价" if f.get("cause") == "buyer"
                                                      else "已自动确认收货")},
        sms_text=lambda f: values.sms(f"订单{values.character_string(f.get('order_id'))}已签收。回复TD退订"),
        page=lambda f: f"pages/order/order?order_id={f.get('order_id', '')}"),
    Template(
        kind="new_room_preview", title="New live coming",
        wechat_data=lambda f: {"thing1": values.thing(f.get("title"), "新直播"),
                               "time2": values.time_value(f.get("scheduled_start")),
                               "thing3": values.thing(f.get("host_name"), "你关注的主播")},
        sms_text=lambda f: values.sms(f"{values.thing(f.get('host_name'), '你关注的主播')}将于"
                                      f"{values.time_value(f.get('scheduled_start'))}开播"
                                      f"“{values.thing(f.get('title'))}”。回复TD退订"),
        page=_room_page),
)}

KINDS = tuple(TEMPLATES)
REMINDER_KINDS = ("reminder_15min", "live_now")
POST_LIVE_KINDS = ("non_buyer", "order_summary")
SHIPPING_KINDS = ("shipped", "delivered")
PREVIEW_KIND = "new_room_preview"
# Kinds a viewer gives a one-time subscribe-message consent for (wx.requestSubscribeMessage).
CONSENT_KINDS = POST_LIVE_KINDS + SHIPPING_KINDS + (PREVIEW_KIND,)


def template(kind: str) -> Template:
    try:
        return TEMPLATES[kind]
    except KeyError:
        raise ValueError(f"unknown notice kind {kind!r}") from None

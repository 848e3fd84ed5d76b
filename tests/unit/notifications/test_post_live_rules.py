"""Pure rules of the post-live notices: WeChat data values always within their type's rule, the
templates' data valid for any input, when the runs start, the channel by consent, the tally, the
preview audience by tag rules over paged rows."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from hypothesis import given, strategies as st

from livecommerce.analytics import TAGS, ViewerFacts, tags_of
from livecommerce.notifications import postlive, rules, values
from livecommerce.notifications.templates import CONSENT_KINDS, KINDS, REMINDER_KINDS, template

texts = st.text(max_size=80)
moments = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1),
                       timezones=st.just(timezone.utc))


@given(texts)
def test_thing_and_character_string_values_keep_their_rules(text):
    assert values.valid("thing1", values.thing(text))
    assert values.valid("character_string2", values.character_string(text))
    assert values.valid("phrase3", values.phrase(text))
    assert values.sms(text).startswith(values.SMS_SIGNATURE)
    assert len(values.sms(text)) <= len(values.SMS_SIGNATURE) + values.SMS_BODY_MAX and "\n" not in values.sms(text)


@given(st.integers(min_value=-10, max_value=10 ** 14))
def test_amount_is_exact_yuan(fen):
    text = values.amount(fen)
    assert values.valid("amount1", text)
    if 0 <= fen < 10 ** 12:
        yuan, cents = text[1:].split(".")
        assert int(yuan) * 100 + int(cents) == fen          # no float anywhere


@given(moments)
def test_time_value_is_china_time(moment):
    text = values.time_value(moment.isoformat())
    assert values.valid("time1", text)
    cst = moment + timedelta(hours=8)
    assert text == cst.strftime("%Y年%m月%d日 %H:%M")


def test_values_refuse_what_wechat_refuses():
    assert not values.valid("thing1", "x" * 21)
    assert not values.valid("character_string1", "订单123")
    assert not values.valid("amount1", "12.00")
    assert not values.valid("time1", "2026-05-01 12:00 UTC")
    assert not values.valid("number1", "1e5")


@given(st.fixed_dictionaries({}, optional={
    "title": texts, "room_id": st.text(max_size=30), "replay_url": texts, "coupon_id": texts,
    "coupon_amount": st.integers(min_value=0, max_value=10 ** 9), "orders": st.integers(min_value=0, max_value=999),
    "amount": st.integers(min_value=0, max_value=10 ** 11), "order_id": texts, "carrier_name": texts,
    "tracking_number": texts, "shipped_at": moments.map(lambda m: m.isoformat()),
    "delivered_at": moments.map(lambda m: m.isoformat()), "cause": st.sampled_from(["buyer", "auto"]),
    "scheduled_start": moments.map(lambda m: m.isoformat()), "host_name": texts}))
def test_every_kind_fills_valid_data_for_any_fields(fields):
    assert set(KINDS) == set(CONSENT_KINDS + REMINDER_KINDS)
    for kind in KINDS:                       # the reminders too: their time2 is a WeChat time value
        tpl = template(kind)
        assert values.valid_data(tpl.wechat_data(fields)), (kind, tpl.wechat_data(fields))
        text = tpl.sms_text(fields)
        assert text.startswith(values.SMS_SIGNATURE) and len(text) <= len(values.SMS_SIGNATURE) + values.SMS_BODY_MAX


@given(moments, st.integers(min_value=-7200, max_value=7200), st.booleans())
def test_runs_start_after_the_end_and_settle_never_in_the_past(ended, offset, ready):
    now = ended + timedelta(seconds=offset)
    at = postlive.post_live_start(ended_at=ended, replay_ready=ready, now=now)
    assert at >= now and at >= ended + postlive.SETTLE
    if not ready:
        assert at >= ended + postlive.REPLAY_WAIT
    elif offset <= postlive.SETTLE.total_seconds():
        assert at == ended + postlive.SETTLE


@given(st.integers(min_value=0, max_value=3), st.booleans(), st.booleans(), st.booleans(), st.booleans())
def test_channel_by_consent_unsubscribe_wins(grants, unsub, sms, phone, unsub_sms):
    channel = postlive.channel_for(postlive.KindConsent(grants_left=grants, unsubscribed_subscribe=unsub, sms=sms,
                                                        has_phone=phone, unsubscribed_sms=unsub_sms))
    if grants > 0 and not unsub:
        assert channel == rules.SUBSCRIBE
    elif sms and phone and not unsub_sms:
        assert channel == rules.SMS
    else:
        assert channel is None


@given(st.lists(st.sampled_from([rules.SENT, rules.FAILED, rules.SKIPPED_CONSENT, rules.SKIPPED_CONSENT_REVOKED,
                                 rules.SKIPPED_CAP, "duplicate", postlive.SKIPPED_NOT_FOLLOWER, rules.RETRYING])))
def test_tally_counts_every_result_once(outcomes):
    totals = postlive.tally(None, [{"outcome": o} for o in outcomes])
    assert sum(totals.values()) == len(outcomes)
    assert totals["skipped_consent"] == sum(o in postlive.CONSENT_OUTCOMES for o in outcomes)
    assert totals["sent"] == outcomes.count(rules.SENT)


def _row(user, room, started, **facts):
    return {"user_id": user, "room_id": room, "started_at": started, **facts}


def test_preview_page_applies_tags_per_session_and_never_splits_a_viewer():
    rows = [_row("a", "r1", 1, watch_seconds=600, product_clicks=1),                 # high intent in r1
            _row("b", "r1", 1, watch_seconds=60), _row("b", "r2", 2, watch_seconds=60, paid_orders=1),
            _row("c", "r1", 1, watch_seconds=600, product_clicks=2, paid_orders=1)]
    pick = dict(facts_type=ViewerFacts, tags_of=tags_of)
    assert postlive.preview_page(rows, ["high_intent_non_buyer"], **pick) == (["a"], None)
    assert postlive.preview_page(rows, [], **pick) == (["a", "b", "c"], None)
    assert postlive.preview_page(rows, ["buyer"], **pick) == (["b", "c"], None)
    # repeat_buyer: a purchase in a later session after one in an earlier session of the host
    twice = rows + [_row("c", "r2", 2, paid_orders=1)]
    assert postlive.preview_page(twice, ["repeat_buyer"], **pick) == (["c"], None)
    # a full page ends inside c's rows: c waits for the next page, the cursor is b
    assert postlive.preview_page(twice, [], page_rows=len(twice), **pick) == (["a", "b"], "b")
    assert set(TAGS) >= {"high_intent_non_buyer", "buyer", "repeat_buyer"}

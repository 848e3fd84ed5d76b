from __future__ import annotations

from datetime import datetime, timedelta, timezone

from hypothesis import given, strategies as st

from livecommerce.notifications import rules, templates
from livecommerce.notifications.rules import Consent, channel_for


@given(sub=st.booleans(), sms=st.booleans(), phone=st.booleans(), off_sub=st.booleans(), off_sms=st.booleans(),
       used=st.booleans())
def test_channel_follows_consent_and_unsubscribe(sub, sms, phone, off_sub, off_sms, used):
    channel = channel_for(Consent(sub, sms, phone, off_sub, off_sms), subscribe_consent_used=used)
    if channel == rules.SUBSCRIBE:
        assert sub and not off_sub and not used
    elif channel == rules.SMS:
        assert sms and phone and not off_sms and not (sub and not off_sub and not used)
    else:
        assert not (sub and not off_sub and not used) and not (sms and phone and not off_sms)


def test_one_time_subscribe_consent_carries_one_notice_then_sms():
    consent = Consent(subscribe_message=True, sms=True, has_phone=True)
    assert channel_for(consent, subscribe_consent_used=False) == rules.SUBSCRIBE
    assert channel_for(consent, subscribe_consent_used=True) == rules.SMS
    assert channel_for(Consent(True, False, False), subscribe_consent_used=True) is None


@given(count=st.integers(min_value=0, max_value=50))
def test_cap(count):
    assert rules.under_cap(count) == (count < rules.DAILY_CAP)


def test_reminder_plan_and_at_expression():
    now = datetime(2026, 5, 1, 11, 50, tzinfo=timezone.utc)
    plan = rules.reminder_plan("2026-05-01T12:00:00Z", now)
    assert plan == {"reminder_15min": None, "live_now": datetime(2026, 5, 1, 12, 0, tzinfo=timezone.utc)}
    plan = rules.reminder_plan("2026-05-01T13:00:00Z", now)
    assert rules.at_expression(plan["reminder_15min"]) == "at(2026-05-01T12:45:00)"
    assert rules.parse_at("at(2026-05-01T12:45:00)") == plan["reminder_15min"]
    assert rules.reminder_plan("2026-05-01T11:00:00Z", now) == {"reminder_15min": None, "live_now": None}


@given(st.text(alphabet="0123456789ABCDEFGHJKMNPQRSTVWXYZ", min_size=26, max_size=26),
       st.sampled_from(templates.REMINDER_KINDS))
def test_schedule_names_are_deterministic_and_valid(room_id, kind):
    name = rules.schedule_name(room_id, kind)
    assert name == rules.schedule_name(room_id, kind) and len(name) <= 64
    assert all(c.isalnum() or c in "-_." for c in name)


def test_provider_codes():
    assert rules.wechat_error(45009, "").retryable and not rules.wechat_error(45009, "").revoked
    assert rules.wechat_error(43101, "").revoked and not rules.wechat_error(43101, "").retryable
    assert not rules.wechat_error(40037, "").retryable and not rules.wechat_error(40037, "").revoked
    assert rules.sms_error("OptedOut", "").revoked and rules.sms_error("Throttling", "").retryable


def test_reminder_templates_give_wechat_time_values_and_there_is_no_placeholder_kind():
    data = templates.template("reminder_15min").wechat_data(
        {"title": "一个非常非常长的直播标题，超过二十个字符的那种标题", "scheduled_start": "2026-05-01T12:00:00Z"})
    assert len(data["thing1"]) <= templates.THING_MAX
    assert data["time2"] == "2026年05月01日 20:00"            # China Standard Time, WeChat's time rule
    assert templates.template("live_now").wechat_data({"scheduled_start": "2026-12-31T16:30:00Z"})[
        "time2"] == "2027年01月01日 00:30"
    # replay_ready was a placeholder no flow sent (the replay link goes to non-buyers): removed.
    assert set(templates.KINDS) == {"reminder_15min", "live_now", "non_buyer", "order_summary",
                                    "shipped", "delivered", "new_room_preview"}


def test_token_margin():
    assert rules.token_still_good(1000.0, 600.0) and not rules.token_still_good(1000.0, 701.0)

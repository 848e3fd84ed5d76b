"""The senders against a provider's protocol: WeChat through the stand-in (real HTTP), SMS
through SNS on moto."""
from __future__ import annotations

import pytest

from livecommerce.notifications import rules
from livecommerce.notifications.providers import SnsSmsSender, WeChatSubscribeSender


@pytest.fixture
def wechat():
    from local.standins.wechat_api import WeChatStandIn

    with WeChatStandIn("wx-app", "wx-secret") as standin:
        yield standin


def test_wechat_token_cached_refreshed_once_and_errors_kept(wechat):
    now = [1000.0]
    wechat.clock = lambda: now[0]
    sender = WeChatSubscribeSender(wechat.base_url, "wx-app", "wx-secret", clock=lambda: now[0])
    args = dict(template_id="tpl", page="pages/room/room?room_id=R", data={"thing1": "直播"})
    sender.send(openid="o-1", **args)
    sender.send(openid="o-2", **args)
    assert wechat.messages.token_requests == 1                       # cached
    assert [m["touser"] for m in wechat.messages.inbox] == ["o-1", "o-2"]
    assert wechat.messages.inbox[0]["data"] == {"thing1": {"value": "直播"}}

    wechat.messages.expire_tokens()                                  # 40001 -> one forced refresh, then sent
    sender.send(openid="o-3", **args)
    assert wechat.messages.token_requests == 2 and len(wechat.messages.inbox) == 3

    now[0] += 7200 - 299                                             # within 5 minutes of expiry: a new token
    sender.send(openid="o-4", **args)
    assert wechat.messages.token_requests == 3

    wechat.messages.revoked.add("o-5")
    with pytest.raises(rules.ProviderError) as refused:
        sender.send(openid="o-5", **args)
    assert refused.value.code == "43101" and refused.value.revoked
    wechat.inject_fault(rate_limit_send=1)
    with pytest.raises(rules.ProviderError) as limited:
        sender.send(openid="o-6", **args)
    assert limited.value.code == "45009" and limited.value.retryable

    bad = WeChatSubscribeSender(wechat.base_url, "wx-app", "wrong", clock=lambda: now[0])
    with pytest.raises(rules.ProviderError) as wrong:
        bad.send(openid="o-7", **args)
    assert wrong.value.code == "40125" and not wrong.value.retryable


def test_sms_through_sns(aws_env):
    from moto.sns.models import sns_backends

    sender = SnsSmsSender(aws_env.client("sns"))
    assert sender.send(phone="13812345678", text="hello")
    assert list(sns_backends["123456789012"][aws_env.region_name].sms_messages.values()) == [
        ("+8613812345678", "hello")]
    with pytest.raises(rules.ProviderError) as bad:
        sender.send(phone="not-a-phone", text="x")
    assert not bad.value.retryable


def test_alipay_template_message_signed_verified_and_errors_kept():
    """alipay.open.app.mini.templatemessage.send through python-alipay-sdk against the gateway
    stand-in: the request's RSA2 signature checked there, the answer's verified here; a user who
    has not subscribed is a revoked consent (USER_NOT_SUBSCRIBE), a busy gateway a retry, an answer
    signed with another key refused, HTTP controls for the inbox and revocations."""
    import requests

    from livecommerce.notifications.providers import AlipayTemplateSender, alipay_client
    from local.standins.alipay_api import AlipayStandIn, generate_key_pair

    app_private, app_public = generate_key_pair()
    with AlipayStandIn("2021000000000007", app_public) as alipay:
        sender = AlipayTemplateSender(alipay.gateway_url, alipay_client(
            "2021000000000007", app_private, alipay.platform_public_key_pem))
        args = dict(template_id="tpl-a", page="pages/room/room?room_id=R", data={"keyword1": "冬季好物专场"})
        assert sender.send(user_id="2088000000000001", **args).startswith("msg")
        inbox = requests.get(alipay.base_url + "/__standin/inbox", timeout=5).json()["inbox"]
        assert [(m["to_user_id"], m["user_template_id"], m["data"]) for m in inbox] == [
            ("2088000000000001", "tpl-a", {"keyword1": {"value": "冬季好物专场"}})]

        assert requests.post(alipay.base_url + "/__standin/revoked", json={"user_id": "2088000000000002"},
                             timeout=5).json() == {"revoked": ["2088000000000002"]}
        with pytest.raises(rules.ProviderError) as refused:
            sender.send(user_id="2088000000000002", **args)
        assert refused.value.code == "USER_NOT_SUBSCRIBE" and refused.value.revoked and not refused.value.retryable
        alipay.inject_fault(busy=1)
        with pytest.raises(rules.ProviderError) as busy:
            sender.send(user_id="2088000000000003", **args)
        assert busy.value.code == "isp.unknow-error" and busy.value.retryable
        with pytest.raises(rules.ProviderError) as illegal:
            sender.send(user_id="", **args)
        assert illegal.value.code == "USER_TEMPLATE_ILLEGAL"

        _, not_alipay = generate_key_pair()                        # the app trusts a key Alipay does not sign with
        forged = AlipayTemplateSender(alipay.gateway_url, alipay_client("2021000000000007", app_private, not_alipay))
        with pytest.raises(rules.ProviderError) as unsigned:
            forged.send(user_id="2088000000000004", **args)
        assert unsigned.value.code == "bad-signature"
        assert len(requests.get(alipay.base_url + "/__standin/inbox", timeout=5).json()["inbox"]) == 2

"""Commerce demo data and the payment stand-ins for the local stage.

`seed_products()` adds a few products to the library and one store-wide coupon that
viewers can redeem for points, as the operator would through the API: catalog's
create_product and marketing's create_template, with their events through the
outboxes. Fixed ids make it idempotent, like local.seed.

`start_payment_standins()` runs the WeChat Pay and Alipay stand-ins with freshly
generated keys, stores the matching payments secret in the embedded AWS and points
the payments function at them, so a payment can be made end to end on loopback:

    POST /v1/orders/{id}/payments {"channel": "wechat"}      -> wx.requestPayment parameters
    POST <wechatpay stand-in>/__standin/pay {"out_trade_no": "<order id>"}
         -> the stand-in sends a signed, encrypted notification to /v1/payments/wechat/notify
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Any

DEMO_PRODUCTS = (
    # (id, name, list price in fen, stock, description)
    ("01JDEM000000000000000000P1", "羊绒围巾 · 燕麦色", 29900, 500, "内蒙古山羊绒，180×30 cm。"),
    ("01JDEM000000000000000000P2", "明前龙井 250 g", 46800, 300, "西湖产区，一级，锡罐装。"),
    ("01JDEM000000000000000000P3", "手工陶瓷马克杯", 8900, 800, "景德镇手作，350 ml，可微波。"),
    ("01JDEM000000000000000000P4", "冻干水果脆 6 袋装", 5990, 2000, "草莓、芒果、黄桃，无添加糖。"),
    ("01JDEM000000000000000000P5", "保温焖烧杯 500 ml", 15900, 600, "316 不锈钢内胆，保温 12 小时。"),
)
POINTS_TEMPLATE_ID = "01JDEM000000000000000000C1"


def seed_products() -> dict[str, int]:
    """Demo products and a points-redeemable coupon; existing ones are left as they are."""
    from livecommerce.catalog import service as catalog
    from livecommerce.catalog.models import CreateProductRequest
    from livecommerce.marketing import service as marketing
    from livecommerce.marketing.models import CreateTemplateRequest
    from local.seed import created, operator

    caller = operator()
    made = 0
    for product_id, name, price, stock, description in DEMO_PRODUCTS:
        image = f"https://img.example.com/demo/{product_id[-2:].lower()}.jpg"
        product = CreateProductRequest(name=name, images=[image], description=description, list_price=price,
                                       stock=stock)
        made += created(lambda: catalog.create_product(caller, product, product_id=product_id),
                        exists="product_exists")
    coupon = CreateTemplateRequest(name="积分兑换 · 无门槛 10 元", kind="no_threshold", amount=1000, threshold=0,
                                   total=10000, per_user_limit=5, valid_days=30, points_cost=500)
    made += created(lambda: marketing.create_template(caller, coupon, template_id=POINTS_TEMPLATE_ID),
                    exists="template_exists")
    return {"products": len(DEMO_PRODUCTS), "commerce_created": made}


@dataclass
class PaymentStandIns:
    wechat: Any
    alipay: Any
    secret: dict[str, Any]

    @property
    def urls(self) -> dict[str, str]:
        return {"wechatpay_standin": self.wechat.base_url, "alipay_pay_standin": self.alipay.gateway_url}

    def stop(self) -> None:
        self.wechat.stop()
        self.alipay.stop()


def start_payment_standins(session, *, api_url: str, secret_id: str | None = None,
                           wechat_app_id: str = "wx-local-app", alipay_app_id: str = "2021000000000000",
                           mchid: str = "1900000109") -> PaymentStandIns:
    """Start both payment stand-ins with fresh keys and configure the stack to use them.

    Sets PAYMENTS_SECRET_ID, WECHATPAY_API_BASE, ALIPAY_PAY_GATEWAY and
    PAYMENT_NOTIFY_BASE (= api_url: the providers post their notifications to
    the local API) in os.environ, and writes the payments secret."""
    from local.standins.alipay_pay import AlipayPayStandIn
    from local.standins.wechatpay_api import WeChatPayStandIn

    secret_id = secret_id or os.environ.get("PAYMENTS_SECRET_ID") or "livecommerce-local/payment-providers"
    wechat, wechat_config = WeChatPayStandIn.with_fresh_merchant(mchid=mchid, appid=wechat_app_id)
    alipay, alipay_config = AlipayPayStandIn.with_fresh_app(alipay_app_id)
    wechat.start()
    alipay.start()
    secret = {"wechatpay": wechat_config, "alipay": alipay_config}
    sm = session.client("secretsmanager")
    try:
        sm.create_secret(Name=secret_id, SecretString=json.dumps(secret))
    except sm.exceptions.ResourceExistsException:
        sm.put_secret_value(SecretId=secret_id, SecretString=json.dumps(secret))
    os.environ.update({"PAYMENTS_SECRET_ID": secret_id, "WECHATPAY_API_BASE": wechat.base_url,
                       "ALIPAY_PAY_GATEWAY": alipay.gateway_url, "PAYMENT_NOTIFY_BASE": api_url.rstrip("/")})
    return PaymentStandIns(wechat=wechat, alipay=alipay, secret=secret)

"""Product cards carry what catalog really sends: a product listed through the catalog
API reaches the room's events topic and the video (IVS timed metadata) with its name,
price and stock (the cards once read `title` and `stock`, which ProductListed does not
have, so the cards in the video had neither)."""
from __future__ import annotations

import pytest

from tests.integration.commerce_fixtures import Shop
from tests.integration.interaction.test_broadcasts import Ivs, _channel

pytestmark = pytest.mark.integration


def test_a_listed_product_card_carries_name_price_and_stock(api, tokens_for, room, published, aws_env,
                                                            monkeypatch):
    from local.event_delivery import drain
    from local.resources import LocalNames

    shop = Shop(api, tokens_for)
    product = shop.product(stock=100, list_price=19900, name="羊绒围巾 加厚款")
    shop.preset(room, [{"product_id": product, "display_order": 0, "live_price": 9900, "live_stock": 20}])
    ivs = Ivs(monkeypatch, _channel(room))
    ivs.expect(1)
    with ivs.stubber:
        shop.list_all(room)
        drain(aws_env, LocalNames())
        ivs.stubber.assert_no_pending_responses()

    [card] = [c for payload in ivs.sent for c in payload["cards"]]
    assert card["type"] == "product_listed" and card["product_id"] == product
    assert card["title"] == "羊绒围巾 加厚款"            # the product's name
    assert card["price"] == 9900 and card["live_price"] == 9900   # the live price, fen
    assert card["stock"] == 20                          # units on sale in the room
    [message] = [m for m in published.on(f"{room}/events") if m["type"] == "product_listed"]
    assert message["data"]["name"] == "羊绒围巾 加厚款" and message["data"]["stock_left"] == 20
    assert message["data"]["live_price"] == 9900

"""Every route against anonymous, viewer, host of another room, host and operator, and a room
assistant of this room and one of another host's rooms.

A route added to the route table without a row here fails
test_every_route_has_a_matrix_row, so the matrix cannot fall behind.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from livecommerce.manifest import ROUTES

pytestmark = pytest.mark.integration

CALLERS = ("anonymous", "viewer", "other_host", "host", "operator", "assistant", "other_assistant")
# viewer-3 assists in host-1's room (every capability); viewer-4 in every room of host-2.
USER_OF = {"viewer": "viewer-1", "other_host": "host-2", "host": "host-1", "operator": "operator-1",
           "assistant": "viewer-3", "other_assistant": "viewer-4"}
ALLOWED, UNAUTHENTICATED, FORBIDDEN = "allowed", 401, 403

EVERYONE = dict.fromkeys(CALLERS, ALLOWED)
LOGGED_IN = {"anonymous": UNAUTHENTICATED, **dict.fromkeys(CALLERS[1:], ALLOWED)}
OPERATORS = {"anonymous": UNAUTHENTICATED, "viewer": FORBIDDEN, "other_host": FORBIDDEN,
             "host": FORBIDDEN, "operator": ALLOWED}
HOSTS = {"anonymous": UNAUTHENTICATED, "viewer": FORBIDDEN, "other_host": ALLOWED,
         "host": ALLOWED, "operator": ALLOWED}
ROOM_HOST = {"anonymous": UNAUTHENTICATED, "viewer": FORBIDDEN, "other_host": FORBIDDEN,
             "host": ALLOWED, "operator": ALLOWED}
START = (datetime.now(timezone.utc) + timedelta(days=30)).isoformat()

# route key -> (request builder taking the room id of host-1's room, expected outcome per caller)
MATRIX = {
    "POST /v1/auth/login": (lambda r: ("POST", "/v1/auth/login", {"provider": "dev", "code": "viewer-1"}),
                            EVERYONE),
    "GET /v1/me": (lambda r: ("GET", "/v1/me", None), LOGGED_IN),
    "POST /v1/hosts": (lambda r: ("POST", "/v1/hosts", {"user_id": "viewer-2", "display_name": "V2"}),
                       OPERATORS),
    "GET /v1/hosts/{host_id}": (lambda r: ("GET", "/v1/hosts/host-1", None), EVERYONE),
    "PUT /v1/hosts/{host_id}/follow": (lambda r: ("PUT", "/v1/hosts/host-1/follow", None), LOGGED_IN),
    "DELETE /v1/hosts/{host_id}/follow": (lambda r: ("DELETE", "/v1/hosts/host-1/follow", None), LOGGED_IN),
    "POST /v1/rooms": (lambda r: ("POST", "/v1/rooms", {"title": "t", "scheduled_start": START}), HOSTS),
    "GET /v1/rooms": (lambda r: ("GET", "/v1/rooms?status=scheduled", None), EVERYONE),
    "GET /v1/rooms/{room_id}": (lambda r: ("GET", f"/v1/rooms/{r}", None), EVERYONE),
    "PATCH /v1/rooms/{room_id}": (lambda r: ("PATCH", f"/v1/rooms/{r}", {"topic": "new"}), ROOM_HOST),
    "PUT /v1/rooms/{room_id}/reservation": (
        lambda r: ("PUT", f"/v1/rooms/{r}/reservation", {"subscribe_message": True}), LOGGED_IN),
    "DELETE /v1/rooms/{room_id}/reservation": (lambda r: ("DELETE", f"/v1/rooms/{r}/reservation", None),
                                               LOGGED_IN),
    "GET /v1/me/reservations": (lambda r: ("GET", "/v1/me/reservations", None), LOGGED_IN),
    "GET /v1/rooms/{room_id}/ingest": (lambda r: ("GET", f"/v1/rooms/{r}/ingest", None), ROOM_HOST),
    "POST /v1/rooms/{room_id}/stream-key/rotate": (
        lambda r: ("POST", f"/v1/rooms/{r}/stream-key/rotate", None), ROOM_HOST),
    "GET /v1/rooms/{room_id}/playback": (lambda r: ("GET", f"/v1/rooms/{r}/playback", None), LOGGED_IN),
    "POST /v1/rooms/{room_id}/start": (lambda r: ("POST", f"/v1/rooms/{r}/start", None), ROOM_HOST),
    "POST /v1/rooms/{room_id}/end": (lambda r: ("POST", f"/v1/rooms/{r}/end", None), ROOM_HOST),
    "POST /v1/rooms/{room_id}/materials": (
        lambda r: ("POST", f"/v1/rooms/{r}/materials",
                   {"filename": "s.txt", "content_type": "text/plain", "size_bytes": 5}), ROOM_HOST),
    "GET /v1/rooms/{room_id}/materials": (lambda r: ("GET", f"/v1/rooms/{r}/materials", None), ROOM_HOST),
    "POST /v1/rooms/{room_id}/cover-uploads": (
        lambda r: ("POST", f"/v1/rooms/{r}/cover-uploads", {"content_type": "image/png", "size_bytes": 5}),
        ROOM_HOST),
    # No upload behind the id: the room's host gets 409 cover_not_uploaded, past the authorization.
    "PUT /v1/rooms/{room_id}/cover": (
        lambda r: ("PUT", f"/v1/rooms/{r}/cover", {"upload_id": "01J00000000000000000000000"}), ROOM_HOST),
    "GET /openapi.json": (lambda r: ("GET", "/openapi.json", None), EVERYONE),
    "GET /docs": (lambda r: ("GET", "/docs", None), EVERYONE),
}


from tests.integration.orders.test_commerce_authorization import COMMERCE_MATRIX  # noqa: E402

MATRIX.update(COMMERCE_MATRIX)
MATRIX.update({
    "GET /v1/rooms/{room_id}/realtime": (lambda r: ("GET", f"/v1/rooms/{r}/realtime", None), LOGGED_IN),
    "GET /v1/rooms/{room_id}/snapshot": (lambda r: ("GET", f"/v1/rooms/{r}/snapshot", None), EVERYONE),
    "GET /v1/rooms/{room_id}/feed": (lambda r: ("GET", f"/v1/rooms/{r}/feed?seq=0", None), EVERYONE),
    "POST /v1/rooms/{room_id}/danmaku": (lambda r: ("POST", f"/v1/rooms/{r}/danmaku", {"text": "hi"}), LOGGED_IN),
    "POST /v1/rooms/{room_id}/likes": (lambda r: ("POST", f"/v1/rooms/{r}/likes", {"count": 1}), LOGGED_IN),
    "GET /v1/rooms/{room_id}/danmaku-settings": (lambda r: ("GET", f"/v1/rooms/{r}/danmaku-settings", None),
                                                 ROOM_HOST),
    "PUT /v1/rooms/{room_id}/danmaku-settings": (
        lambda r: ("PUT", f"/v1/rooms/{r}/danmaku-settings", {"quick_phrases": ["想要"]}), ROOM_HOST),
    "GET /v1/rooms/{room_id}/moderation": (lambda r: ("GET", f"/v1/rooms/{r}/moderation", None), ROOM_HOST),
    "GET /v1/rooms/{room_id}/coupon-drops": (lambda r: ("GET", f"/v1/rooms/{r}/coupon-drops", None), ROOM_HOST),
    "PUT /v1/rooms/{room_id}/mutes/{user_id}": (
        lambda r: ("PUT", f"/v1/rooms/{r}/mutes/viewer-2", {"duration_seconds": 60}), ROOM_HOST),
    "DELETE /v1/rooms/{room_id}/mutes/{user_id}": (lambda r: ("DELETE", f"/v1/rooms/{r}/mutes/viewer-2", None),
                                                   ROOM_HOST),
    "PUT /v1/rooms/{room_id}/bans/{user_id}": (lambda r: ("PUT", f"/v1/rooms/{r}/bans/viewer-2", {}), ROOM_HOST),
    "DELETE /v1/rooms/{room_id}/bans/{user_id}": (lambda r: ("DELETE", f"/v1/rooms/{r}/bans/viewer-2", None),
                                                  ROOM_HOST),
})


# Routes a room's assistant may use (rooms.require_room_staff): allowed for the assistant of this room,
# 403 for an assistant of another host's rooms. Every other route treats an assistant as the viewer
# they are (the `viewer` column); prices, stock and payouts are never among these.
ASSISTANT_ROUTES = {
    "GET /v1/rooms/{room_id}/danmaku-settings", "PUT /v1/rooms/{room_id}/danmaku-settings",
    "GET /v1/rooms/{room_id}/moderation",
    "PUT /v1/rooms/{room_id}/mutes/{user_id}", "DELETE /v1/rooms/{room_id}/mutes/{user_id}",
    "PUT /v1/rooms/{room_id}/bans/{user_id}", "DELETE /v1/rooms/{room_id}/bans/{user_id}",
    "POST /v1/rooms/{room_id}/products/listing", "DELETE /v1/rooms/{room_id}/products/listing",
    "POST /v1/rooms/{room_id}/products/{product_id}/listing",
    "DELETE /v1/rooms/{room_id}/products/{product_id}/listing",
    "POST /v1/rooms/{room_id}/coupon-drops", "GET /v1/rooms/{room_id}/coupon-drops",
    "POST /v1/rooms/{room_id}/polls", "POST /v1/rooms/{room_id}/quizzes",
}
# Close of a poll or quiz that does not exist (the builder knows only the room): a caller who is
# neither a host nor a poll assistant is refused before the poll is read; the rest get 404. Who
# closes a real one: tests/integration/engagement/test_polls_quizzes.py.
POLL_STAFF = {"anonymous": UNAUTHENTICATED, "viewer": FORBIDDEN, "other_host": ALLOWED, "host": ALLOWED,
              "operator": ALLOWED, "assistant": ALLOWED, "other_assistant": ALLOWED}
_POLL = "01ARZ3NDEKTSV4RRFFQ69G5FAV"
# 600 s: a poll or quiz closing within the clock's 75 s lead asks for a timer that would outlive the test.
MATRIX.update({
    "POST /v1/rooms/{room_id}/polls": (lambda r: ("POST", f"/v1/rooms/{r}/polls", {
        "question": "q", "options": ["a", "b"], "duration_seconds": 600}), ROOM_HOST),
    "POST /v1/rooms/{room_id}/quizzes": (lambda r: ("POST", f"/v1/rooms/{r}/quizzes", {
        "question": "q", "options": ["a", "b"], "answer": 0, "duration_seconds": 600}), ROOM_HOST),
    "GET /v1/polls/{poll_id}": (lambda r: ("GET", f"/v1/polls/{_POLL}", None), EVERYONE),
    "GET /v1/quizzes/{quiz_id}": (lambda r: ("GET", f"/v1/quizzes/{_POLL}", None), EVERYONE),
    "POST /v1/polls/{poll_id}/votes": (lambda r: ("POST", f"/v1/polls/{_POLL}/votes", {"choices": [0]}), LOGGED_IN),
    "POST /v1/quizzes/{quiz_id}/answers": (lambda r: ("POST", f"/v1/quizzes/{_POLL}/answers", {"choice": 0}),
                                           LOGGED_IN),
    "POST /v1/polls/{poll_id}/close": (lambda r: ("POST", f"/v1/polls/{_POLL}/close", None), POLL_STAFF),
    "POST /v1/quizzes/{quiz_id}/close": (lambda r: ("POST", f"/v1/quizzes/{_POLL}/close", None), POLL_STAFF),
})
# The post-live report, its views and comparisons (analytics): the room's host and operators.
_OTHER_ROOM = "01ARZ3NDEKTSV4RRFFQ69G5FAW"
MATRIX.update({
    "GET /v1/rooms/{room_id}/stats": (lambda r: ("GET", f"/v1/rooms/{r}/stats", None), ROOM_HOST),
    "GET /v1/rooms/{room_id}/stats.xlsx": (lambda r: ("GET", f"/v1/rooms/{r}/stats.xlsx", None), ROOM_HOST),
    "GET /v1/rooms/{room_id}/viewers": (lambda r: ("GET", f"/v1/rooms/{r}/viewers", None), ROOM_HOST),
    "GET /v1/stats/compare": (lambda r: ("GET", f"/v1/stats/compare?rooms={r},{_OTHER_ROOM}", None), ROOM_HOST),
    "GET /v1/products/{product_id}/stats": (lambda r: ("GET", f"/v1/products/{_OTHER_ROOM}/stats", None), HOSTS),
    # live figures: the room's assistants too
    "GET /v1/rooms/{room_id}/stats/live": (lambda r: ("GET", f"/v1/rooms/{r}/stats/live", None),
                                           {**ROOM_HOST, "assistant": ALLOWED, "other_assistant": FORBIDDEN}),
})
MATRIX.update({
    "PUT /v1/rooms/{room_id}/assistants/{user_id}": (
        lambda r: ("PUT", f"/v1/rooms/{r}/assistants/viewer-2", {"capabilities": ["moderate"]}), ROOM_HOST),
    "DELETE /v1/rooms/{room_id}/assistants/{user_id}": (
        lambda r: ("DELETE", f"/v1/rooms/{r}/assistants/viewer-2", None), ROOM_HOST),
    "GET /v1/rooms/{room_id}/assistants": (lambda r: ("GET", f"/v1/rooms/{r}/assistants", None), ROOM_HOST),
    "PUT /v1/hosts/{host_id}/assistants/{user_id}": (
        lambda r: ("PUT", "/v1/hosts/host-1/assistants/viewer-2", {"capabilities": ["moderate"]}), ROOM_HOST),
    "DELETE /v1/hosts/{host_id}/assistants/{user_id}": (
        lambda r: ("DELETE", "/v1/hosts/host-1/assistants/viewer-2", None), ROOM_HOST),
    "GET /v1/hosts/{host_id}/assistants": (lambda r: ("GET", "/v1/hosts/host-1/assistants", None), ROOM_HOST),
})

# Fulfilment and after-sales (orders): on an order / after-sale that does not exist, hosts and
# operators pass the role check (404 follows), viewers do not; the buyer's routes are any login's.
_NO_ORDER = "01ARZ3NDEKTSV4RRFFQ69G5FAV"
MATRIX.update({
    "POST /v1/orders/{order_id}/shipments": (
        lambda r: ("POST", f"/v1/orders/{_NO_ORDER}/shipments", {"carrier": "SF", "tracking_number": "SF1234567890123"}),
        HOSTS),
    "POST /v1/shipments": (
        lambda r: ("POST", "/v1/shipments", {"shipments": [{"order_id": _NO_ORDER, "carrier": "SF",
                                                             "tracking_number": "SF1234567890123"}]}), HOSTS),
    "POST /v1/orders/{order_id}/receipt": (lambda r: ("POST", f"/v1/orders/{_NO_ORDER}/receipt", None), LOGGED_IN),
    "POST /v1/orders/{order_id}/after-sales": (
        lambda r: ("POST", f"/v1/orders/{_NO_ORDER}/after-sales", {"reason": "broken"}), LOGGED_IN),
    "POST /v1/after-sales/{after_sale_id}/approve": (
        lambda r: ("POST", f"/v1/after-sales/{_NO_ORDER}/approve", None), HOSTS),
    "POST /v1/after-sales/{after_sale_id}/reject": (
        lambda r: ("POST", f"/v1/after-sales/{_NO_ORDER}/reject", None), HOSTS),
})

# Reconciliation (payments): operators only. A day never run (operators: 404 follows); a run of a day
# after today (operators: 422 date_in_future, so nothing is downloaded here).
MATRIX.update({
    "GET /v1/reconciliation/{date}": (lambda r: ("GET", "/v1/reconciliation/2020-01-01", None), OPERATORS),
    "POST /v1/reconciliation/{date}/runs": (lambda r: ("POST", "/v1/reconciliation/2099-01-01/runs", None),
                                            OPERATORS),
})



def _beacons(room: str) -> tuple[str, str, dict, dict[str, str]]:
    """Behaviour beacons (analytics): a service-integration route whose authorizer's cache key
    includes the playback-token header, so the request carries one (a 4th item: headers)."""
    import time

    return ("POST", f"/v1/rooms/{room}/events",
            {"events": [{"kind": "enter", "client_ms": int(time.time() * 1000), "play_id": "matrix"}]},
            {"X-Playback-Token": f"none:{room}"})


MATRIX["POST /v1/rooms/{room_id}/events"] = (_beacons, LOGGED_IN)


def expected_for(route_key: str, caller: str):
    """The row's outcome for a caller; assistants: their own column if the row has one, else as the
    route's assistant rule above, else as a viewer."""
    expected = MATRIX[route_key][1]
    if caller in expected:
        return expected[caller]
    if caller in ("assistant", "other_assistant"):
        if route_key in ASSISTANT_ROUTES:
            return ALLOWED if caller == "assistant" else FORBIDDEN
        return expected["viewer"]
    raise KeyError((route_key, caller))


# Lotteries (engagement). A lottery that does not exist: allowed callers get 404 lottery_not_found.
# Opening one is the room's host, an operator or an assistant of the room (engagement.service.require_runner).
_LOTTERY = "01ARZ3NDEKTSV4RRFFQ69G5FAX"
ASSISTANT_ROUTES.add("POST /v1/rooms/{room_id}/lotteries")
MATRIX.update({
    "POST /v1/rooms/{room_id}/lotteries": (lambda r: ("POST", f"/v1/rooms/{r}/lotteries", {
        "kind": "follow", "prize": {"kind": "points", "name": "10 积分", "points": 10}, "winners": 1,
        "duration_seconds": 3600}), ROOM_HOST),   # an hour: no close timer in the clock's lead outlives the test
    "GET /v1/lotteries/{lottery_id}": (lambda r: ("GET", f"/v1/lotteries/{_LOTTERY}", None), EVERYONE),
    "GET /v1/lotteries/{lottery_id}/proof": (lambda r: ("GET", f"/v1/lotteries/{_LOTTERY}/proof", None), EVERYONE),
    "POST /v1/lotteries/{lottery_id}/entries": (lambda r: ("POST", f"/v1/lotteries/{_LOTTERY}/entries", None),
                                                LOGGED_IN),
    "PUT /v1/lotteries/{lottery_id}/winners/me/address": (
        lambda r: ("PUT", f"/v1/lotteries/{_LOTTERY}/winners/me/address", {
            "name": "张三", "phone": "13800138000", "region": "浙江省杭州市", "address": "文三路 100 号"}), LOGGED_IN),
})


# Replays (media): any logged-in viewer reads a visible room's replay and clips (404 replay_not_found here:
# the room has none); cutting a clip is the room's host's or an operator's.
# (Before the parametrized tests below: their route lists are taken when they are defined.)
MATRIX.update({
    "GET /v1/rooms/{room_id}/replay": (lambda r: ("GET", f"/v1/rooms/{r}/replay", None), LOGGED_IN),
    "GET /v1/rooms/{room_id}/replay/clips": (lambda r: ("GET", f"/v1/rooms/{r}/replay/clips", None), LOGGED_IN),
    "POST /v1/rooms/{room_id}/replay/clips": (
        lambda r: ("POST", f"/v1/rooms/{r}/replay/clips", {"start_seconds": 1, "end_seconds": 3}), ROOM_HOST),
})


# Post-live notices (notifications): a viewer's own one-time consents; the room's notice choices and
# runs are its host's (and operators'); the preview audience is any host's own.
MATRIX.update({
    "GET /v1/me/notification-settings": (lambda r: ("GET", "/v1/me/notification-settings", None), LOGGED_IN),
    "PUT /v1/me/notification-settings": (lambda r: ("PUT", "/v1/me/notification-settings", {
        "subscribe_message": True, "sms": True}), LOGGED_IN),
    "GET /v1/me/notice-consents": (lambda r: ("GET", "/v1/me/notice-consents", None), LOGGED_IN),
    "POST /v1/me/notice-consents": (lambda r: ("POST", "/v1/me/notice-consents", {"accepted": ["shipped"]}),
                                    LOGGED_IN),
    "DELETE /v1/me/notice-consents/{kind}": (lambda r: ("DELETE", "/v1/me/notice-consents/shipped", None),
                                             LOGGED_IN),
    "GET /v1/rooms/{room_id}/notice-settings": (lambda r: ("GET", f"/v1/rooms/{r}/notice-settings", None), ROOM_HOST),
    "PUT /v1/rooms/{room_id}/notice-settings": (
        lambda r: ("PUT", f"/v1/rooms/{r}/notice-settings", {"coupon_template_id": None}), ROOM_HOST),
    "GET /v1/rooms/{room_id}/notices": (lambda r: ("GET", f"/v1/rooms/{r}/notices", None), ROOM_HOST),
    "GET /v1/me/preview-audience": (lambda r: ("GET", "/v1/me/preview-audience", None), HOSTS),
    "PUT /v1/me/preview-audience": (lambda r: ("PUT", "/v1/me/preview-audience", {"tags": ["buyer"]}), HOSTS),
})


# Co-streaming and PK (media): in these rooms (not live) an allowed caller gets 409 room_not_live.
# (Before the parametrized tests below: their route lists are taken when they are defined.)
MATRIX.update({
    "GET /v1/rooms/{room_id}/costream": (lambda r: ("GET", f"/v1/rooms/{r}/costream", None), LOGGED_IN),
    "POST /v1/rooms/{room_id}/costream/requests": (lambda r: ("POST", f"/v1/rooms/{r}/costream/requests", None),
                                                   LOGGED_IN),
    "POST /v1/rooms/{room_id}/costream/requests/{request_id}/accept": (
        lambda r: ("POST", f"/v1/rooms/{r}/costream/requests/viewer-2/accept", None), ROOM_HOST),
    "DELETE /v1/rooms/{room_id}/costream/requests/{request_id}": (
        lambda r: ("DELETE", f"/v1/rooms/{r}/costream/requests/viewer-2", None), LOGGED_IN),
    "POST /v1/rooms/{room_id}/costream/invitations": (
        lambda r: ("POST", f"/v1/rooms/{r}/costream/invitations", {"user_id": "viewer-2"}), ROOM_HOST),
    "POST /v1/rooms/{room_id}/costream/invitations/{request_id}/accept": (
        lambda r: ("POST", f"/v1/rooms/{r}/costream/invitations/viewer-1/accept", None), LOGGED_IN),
    "POST /v1/rooms/{room_id}/costream/guests/{request_id}/mute": (
        lambda r: ("POST", f"/v1/rooms/{r}/costream/guests/viewer-2/mute", None), ROOM_HOST),
    "PUT /v1/rooms/{room_id}/costream/layout": (
        lambda r: ("PUT", f"/v1/rooms/{r}/costream/layout", {"layout": "grid"}), ROOM_HOST),
    "POST /v1/rooms/{room_id}/pk": (
        lambda r: ("POST", f"/v1/rooms/{r}/pk", {"other_room_id": _OTHER_ROOM, "rule": "likes",
                                                 "duration_seconds": 60}), ROOM_HOST),
    "DELETE /v1/rooms/{room_id}/pk": (lambda r: ("DELETE", f"/v1/rooms/{r}/pk", None), ROOM_HOST),
})


def test_every_route_has_a_matrix_row():
    assert {r.key for r in ROUTES} == set(MATRIX)


@pytest.fixture
def room_of_host_1(api, tokens_for, ivs_env):
    created = api.call("POST", "/v1/rooms", token=tokens_for("host-1"),
                       json_body={"title": "matrix", "scheduled_start": START})
    assert created.status == 201, created.body
    room = created.json()["id"]
    tokens_for("viewer-3"), tokens_for("viewer-4")     # dev users exist from their first login
    for path, token in ((f"/v1/rooms/{room}/assistants/viewer-3", tokens_for("host-1")),
                        ("/v1/hosts/host-2/assistants/viewer-4", tokens_for("host-2"))):
        named = api.call("PUT", path, token=token, json_body={})
        assert named.status == 200, named.body
    return room


@pytest.mark.parametrize("route_key", sorted(MATRIX))
def test_route_against_every_caller(api, tokens_for, room_of_host_1, route_key):
    build, _ = MATRIX[route_key]
    for caller in CALLERS:
        method, path, body, *headers = build(room_of_host_1)   # a 4th item: headers the route needs
        token = tokens_for(USER_OF[caller]) if caller != "anonymous" else None
        response = api.call(method, path, json_body=body, token=token, headers=headers[0] if headers else None)
        outcome = expected_for(route_key, caller)
        assert response.status < 500, (route_key, caller, response.body)
        if outcome == ALLOWED:
            assert response.status not in (401, 403), (route_key, caller, response.body)
        else:
            assert response.status == outcome, (route_key, caller, response.status, response.body)
            assert response.json()["code"] in {"unauthorized", "operator_required", "host_required",
                                               "forbidden", "not_room_host"}


# ------------------------------------------------------------------ test rooms
#
# A test room (visibility "test") is a private rehearsal: it does not exist for anyone who
# does not run it. Every room-scoped route (Route.room_from in the specs: a {room_id} in the
# path, a room_id in the body, or an entity of a room such as a flash sale or a coupon drop)
# has a row here: a request builder taking the ids of host-1's test room and its things.
# Each caller who may not see the room must get exactly the answer they get for a room (or
# flash sale, drop, share code, template) that does not exist, so nothing leaks; host-1 and
# operators rehearse as usual.

HIDDEN = "hidden"
ADDRESS = {"name": "张三", "phone": "13800138000", "province": "浙江", "city": "杭州", "district": "西湖区",
           "detail": "文三路 1 号"}
GHOST = "01ARZ3NDEKTSV4RRFFQ69G5FAV"   # a well-formed id of nothing
GHOST_CODE = "ZZZZZZZZ23"
GHOST_ROOM_2 = "01ARZ3NDEKTSV4RRFFQ69G5FAW"   # a second one (a comparison takes two different rooms)


class Rehearsal:
    """Ids of host-1's test room and of what it holds (or of nothing, for the comparison)."""

    def __init__(self, room: str, product: str, sale: str, template: str, points_template: str, drop: str,
                 share: str, other_room: str = GHOST_ROOM_2, poll: str = GHOST, quiz: str = GHOST,
                 lottery: str = GHOST) -> None:
        self.room, self.product, self.sale, self.template = room, product, sale, template
        self.points_template, self.drop, self.share = points_template, drop, share
        self.other_room = other_room       # another (public) room of host-1, for comparisons
        self.poll, self.quiz = poll, quiz  # an open poll and quiz of the test room
        self.lottery = lottery             # an open follow lottery of the test room (gift prize)


NOTHING = Rehearsal(room=GHOST, product=GHOST, sale=GHOST, template=GHOST, points_template=GHOST, drop=GHOST,
                    share=GHOST_CODE)


def _idem(caller: str) -> dict[str, str]:
    import uuid

    return {"Idempotency-Key": f"k-{caller}-{uuid.uuid4().hex}"}


# route key -> request builder (Rehearsal, caller name) -> (method, path, body, headers)
TEST_ROOM_ROWS = {
    "GET /v1/rooms/{room_id}": lambda t, c: ("GET", f"/v1/rooms/{t.room}", None, None),
    "PATCH /v1/rooms/{room_id}": lambda t, c: ("PATCH", f"/v1/rooms/{t.room}", {"topic": "new"}, None),
    "PUT /v1/rooms/{room_id}/reservation": lambda t, c: (
        "PUT", f"/v1/rooms/{t.room}/reservation", {"subscribe_message": True}, None),
    "DELETE /v1/rooms/{room_id}/reservation": lambda t, c: ("DELETE", f"/v1/rooms/{t.room}/reservation", None, None),
    "GET /v1/rooms/{room_id}/ingest": lambda t, c: ("GET", f"/v1/rooms/{t.room}/ingest", None, None),
    "POST /v1/rooms/{room_id}/stream-key/rotate": lambda t, c: (
        "POST", f"/v1/rooms/{t.room}/stream-key/rotate", None, None),
    "GET /v1/rooms/{room_id}/playback": lambda t, c: ("GET", f"/v1/rooms/{t.room}/playback", None, None),
    "POST /v1/rooms/{room_id}/start": lambda t, c: ("POST", f"/v1/rooms/{t.room}/start", None, None),
    "POST /v1/rooms/{room_id}/end": lambda t, c: ("POST", f"/v1/rooms/{t.room}/end", None, None),
    "POST /v1/rooms/{room_id}/materials": lambda t, c: (
        "POST", f"/v1/rooms/{t.room}/materials", {"filename": "s.txt", "content_type": "text/plain",
                                                  "size_bytes": 5}, None),
    "GET /v1/rooms/{room_id}/materials": lambda t, c: ("GET", f"/v1/rooms/{t.room}/materials", None, None),
    "POST /v1/rooms/{room_id}/cover-uploads": lambda t, c: (
        "POST", f"/v1/rooms/{t.room}/cover-uploads", {"content_type": "image/png", "size_bytes": 5}, None),
    "PUT /v1/rooms/{room_id}/cover": lambda t, c: (
        "PUT", f"/v1/rooms/{t.room}/cover", {"upload_id": "01J00000000000000000000000"}, None),
    "PUT /v1/rooms/{room_id}/products": lambda t, c: (
        "PUT", f"/v1/rooms/{t.room}/products", {"items": [{"product_id": t.product, "live_price": 1,
                                                           "live_stock": 5}]}, None),
    "GET /v1/rooms/{room_id}/products": lambda t, c: ("GET", f"/v1/rooms/{t.room}/products", None, None),
    "POST /v1/rooms/{room_id}/products/listing": lambda t, c: (
        "POST", f"/v1/rooms/{t.room}/products/listing", None, None),
    "DELETE /v1/rooms/{room_id}/products/listing": lambda t, c: (
        "DELETE", f"/v1/rooms/{t.room}/products/listing", None, None),
    "POST /v1/rooms/{room_id}/products/{product_id}/listing": lambda t, c: (
        "POST", f"/v1/rooms/{t.room}/products/{t.product}/listing", None, None),
    "DELETE /v1/rooms/{room_id}/products/{product_id}/listing": lambda t, c: (
        "DELETE", f"/v1/rooms/{t.room}/products/{t.product}/listing", None, None),
    "GET /v1/rooms/{room_id}/cards": lambda t, c: ("GET", f"/v1/rooms/{t.room}/cards", None, None),
    # The edge snapshot never reads the caller: a test room is 404 to everyone (the host rehearses
    # through the normal routes), so a cached answer can never leak it (TEST_ROOM_REFUSALS).
    "GET /v1/rooms/{room_id}/snapshot": lambda t, c: ("GET", f"/v1/rooms/{t.room}/snapshot", None, None),
    "GET /v1/rooms/{room_id}/feed": lambda t, c: ("GET", f"/v1/rooms/{t.room}/feed", None, None),
    "POST /v1/orders": lambda t, c: (
        "POST", "/v1/orders", {"room_id": t.room, "items": [{"product_id": t.product, "quantity": 1}],
                               "address": ADDRESS}, _idem(c)),
    "POST /v1/rooms/{room_id}/flash-sales": lambda t, c: (
        "POST", f"/v1/rooms/{t.room}/flash-sales", {"product_id": t.product, "price": 1, "stock": 1,
                                                    "duration_seconds": 60}, None),
    "GET /v1/rooms/{room_id}/flash-sales": lambda t, c: ("GET", f"/v1/rooms/{t.room}/flash-sales", None, None),
    "GET /v1/rooms/{room_id}/orders": lambda t, c: ("GET", f"/v1/rooms/{t.room}/orders", None, None),
    "GET /v1/flash-sales/{sale_id}": lambda t, c: ("GET", f"/v1/flash-sales/{t.sale}", None, None),
    "POST /v1/flash-sales/{sale_id}/orders": lambda t, c: (
        "POST", f"/v1/flash-sales/{t.sale}/orders", {"quantity": 1, "address": ADDRESS}, _idem(c)),
    "POST /v1/flash-sales/{sale_id}/prewarm": lambda t, c: ("POST", f"/v1/flash-sales/{t.sale}/prewarm", None, None),
    "POST /v1/coupon-templates": lambda t, c: (
        "POST", "/v1/coupon-templates", {"name": "彩排券", "kind": "no_threshold", "amount": 100, "total": 5,
                                         "valid_days": 1, "room_id": t.room}, None),
    "POST /v1/rooms/{room_id}/coupon-drops": lambda t, c: (
        "POST", f"/v1/rooms/{t.room}/coupon-drops", {"template_id": t.template, "quantity": 1}, None),
    "GET /v1/coupon-drops/{drop_id}": lambda t, c: ("GET", f"/v1/coupon-drops/{t.drop}", None, None),
    "GET /v1/rooms/{room_id}/coupon-drops": lambda t, c: ("GET", f"/v1/rooms/{t.room}/coupon-drops", None, None),
    "POST /v1/coupon-drops/{drop_id}/claim": lambda t, c: (
        "POST", f"/v1/coupon-drops/{t.drop}/claim", None, _idem(c)),
    "POST /v1/rooms/{room_id}/shares": lambda t, c: ("POST", f"/v1/rooms/{t.room}/shares", None, None),
    "POST /v1/shares/{code}/arrivals": lambda t, c: ("POST", f"/v1/shares/{t.share}/arrivals", None, None),
    "POST /v1/points/redemptions": lambda t, c: (
        "POST", "/v1/points/redemptions", {"template_id": t.points_template}, _idem(c)),
    "GET /v1/rooms/{room_id}/realtime": lambda t, c: ("GET", f"/v1/rooms/{t.room}/realtime", None, None),
    "POST /v1/rooms/{room_id}/danmaku": lambda t, c: ("POST", f"/v1/rooms/{t.room}/danmaku", {"text": "试播"}, None),
    "POST /v1/rooms/{room_id}/likes": lambda t, c: ("POST", f"/v1/rooms/{t.room}/likes", {"count": 1}, None),
    "GET /v1/rooms/{room_id}/danmaku-settings": lambda t, c: (
        "GET", f"/v1/rooms/{t.room}/danmaku-settings", None, None),
    "PUT /v1/rooms/{room_id}/danmaku-settings": lambda t, c: (
        "PUT", f"/v1/rooms/{t.room}/danmaku-settings", {"quick_phrases": ["想要"]}, None),
    "GET /v1/rooms/{room_id}/moderation": lambda t, c: ("GET", f"/v1/rooms/{t.room}/moderation", None, None),
    "PUT /v1/rooms/{room_id}/mutes/{user_id}": lambda t, c: (
        "PUT", f"/v1/rooms/{t.room}/mutes/viewer-2", {"duration_seconds": 60}, None),
    "DELETE /v1/rooms/{room_id}/mutes/{user_id}": lambda t, c: (
        "DELETE", f"/v1/rooms/{t.room}/mutes/viewer-2", None, None),
    "PUT /v1/rooms/{room_id}/bans/{user_id}": lambda t, c: ("PUT", f"/v1/rooms/{t.room}/bans/viewer-2", {}, None),
    "DELETE /v1/rooms/{room_id}/bans/{user_id}": lambda t, c: (
        "DELETE", f"/v1/rooms/{t.room}/bans/viewer-2", None, None),
    "PUT /v1/rooms/{room_id}/assistants/{user_id}": lambda t, c: (
        "PUT", f"/v1/rooms/{t.room}/assistants/viewer-2", {}, None),
    "DELETE /v1/rooms/{room_id}/assistants/{user_id}": lambda t, c: (
        "DELETE", f"/v1/rooms/{t.room}/assistants/viewer-2", None, None),
    "GET /v1/rooms/{room_id}/assistants": lambda t, c: ("GET", f"/v1/rooms/{t.room}/assistants", None, None),
    # the post-live report and its views (analytics): the host and operators, as for any room
    "GET /v1/rooms/{room_id}/stats": lambda t, c: ("GET", f"/v1/rooms/{t.room}/stats", None, None),
    "GET /v1/rooms/{room_id}/stats/live": lambda t, c: ("GET", f"/v1/rooms/{t.room}/stats/live", None, None),
    "GET /v1/rooms/{room_id}/stats.xlsx": lambda t, c: ("GET", f"/v1/rooms/{t.room}/stats.xlsx", None, None),
    "GET /v1/rooms/{room_id}/viewers": lambda t, c: ("GET", f"/v1/rooms/{t.room}/viewers", None, None),
    "GET /v1/stats/compare": lambda t, c: ("GET", f"/v1/stats/compare?rooms={t.room},{t.other_room}", None, None),
    "POST /v1/rooms/{room_id}/polls": lambda t, c: (
        "POST", f"/v1/rooms/{t.room}/polls", {"question": "q", "options": ["a", "b"], "duration_seconds": 600}, None),
    "POST /v1/rooms/{room_id}/quizzes": lambda t, c: (
        "POST", f"/v1/rooms/{t.room}/quizzes", {"question": "q", "options": ["a", "b"], "answer": 0,
                                                "duration_seconds": 600}, None),
    "GET /v1/polls/{poll_id}": lambda t, c: ("GET", f"/v1/polls/{t.poll}", None, None),
    "GET /v1/quizzes/{quiz_id}": lambda t, c: ("GET", f"/v1/quizzes/{t.quiz}", None, None),
    "POST /v1/polls/{poll_id}/votes": lambda t, c: ("POST", f"/v1/polls/{t.poll}/votes", {"choices": [0]}, None),
    "POST /v1/quizzes/{quiz_id}/answers": lambda t, c: ("POST", f"/v1/quizzes/{t.quiz}/answers", {"choice": 0}, None),
    "POST /v1/polls/{poll_id}/close": lambda t, c: ("POST", f"/v1/polls/{t.poll}/close", None, None),
    "POST /v1/quizzes/{quiz_id}/close": lambda t, c: ("POST", f"/v1/quizzes/{t.quiz}/close", None, None),
}
TEST_ROOM_ROWS["POST /v1/rooms/{room_id}/events"] = lambda t, c: _beacons(t.room)


# Replays (media), as in MATRIX above. The test room has a replay that is not ready (its recording
# never wrote recording-ended.json): its host and operators get 409 replay_not_ready, everyone else
# exactly the answer for a room that does not exist.
def _replay_row(method: str, suffix: str, body: dict | None = None):
    def build(t: Rehearsal, caller: str):
        if t is not NOTHING:
            from livecommerce.media.replay_storage import ReplayItem, bind_all

            bind_all()
            ReplayItem(*ReplayItem.key(t.room), room_id=t.room, state="missing_recording",
                       prefix="ivs/v1/123456789012/ch/2024/1/1/0/0/rec", bucket="recordings",
                       recording_started_at="").save()
        return method, f"/v1/rooms/{t.room}/replay{suffix}", body, None
    return build


TEST_ROOM_ROWS.update({
    "GET /v1/rooms/{room_id}/replay": _replay_row("GET", ""),
    "GET /v1/rooms/{room_id}/replay/clips": _replay_row("GET", "/clips"),
    "POST /v1/rooms/{room_id}/replay/clips": _replay_row("POST", "/clips", {"start_seconds": 1, "end_seconds": 3}),
})


# Post-live notices (notifications) in the test room: its host and operators only.
TEST_ROOM_ROWS.update({
    "GET /v1/rooms/{room_id}/notice-settings": lambda t, c: ("GET", f"/v1/rooms/{t.room}/notice-settings", None, None),
    "PUT /v1/rooms/{room_id}/notice-settings": lambda t, c: (
        "PUT", f"/v1/rooms/{t.room}/notice-settings", {"coupon_template_id": None}, None),
    "GET /v1/rooms/{room_id}/notices": lambda t, c: ("GET", f"/v1/rooms/{t.room}/notices", None, None),
})


# Lotteries (engagement) in the test room: the host and an operator see it; nobody else learns it exists.
TEST_ROOM_ROWS.update({
    "POST /v1/rooms/{room_id}/lotteries": lambda t, c: (
        "POST", f"/v1/rooms/{t.room}/lotteries", {"kind": "follow", "prize": {"kind": "gift", "name": "礼"},
                                                  "winners": 1, "duration_seconds": 3600}, None),
    "GET /v1/lotteries/{lottery_id}": lambda t, c: ("GET", f"/v1/lotteries/{t.lottery}", None, None),
    "GET /v1/lotteries/{lottery_id}/proof": lambda t, c: ("GET", f"/v1/lotteries/{t.lottery}/proof", None, None),
    "POST /v1/lotteries/{lottery_id}/entries": lambda t, c: (
        "POST", f"/v1/lotteries/{t.lottery}/entries", None, None),
    "PUT /v1/lotteries/{lottery_id}/winners/me/address": lambda t, c: (
        "PUT", f"/v1/lotteries/{t.lottery}/winners/me/address", {
            "name": "张三", "phone": "13800138000", "region": "浙江省杭州市", "address": "文三路 100 号"}, None),
})
# Callers who see the test room and are then refused by the route's own rule (status, code): the host
# never enters their own lottery; nobody has won the open one.
TEST_ROOM_REFUSALS = {
    "GET /v1/rooms/{room_id}/snapshot": {"host": (404, "room_not_found"), "operator": (404, "room_not_found")},
    "GET /v1/rooms/{room_id}/feed": {"host": (404, "room_not_found"), "operator": (404, "room_not_found")},
    "POST /v1/lotteries/{lottery_id}/entries": {"host": (403, "host_cannot_enter")},
    "POST /v1/flash-sales/{sale_id}/prewarm": {"host": (403, "operator_required"),
                                               "operator": (409, "expected_rate_missing")},
    "PUT /v1/lotteries/{lottery_id}/winners/me/address": {"host": (403, "not_a_winner"),
                                                         "operator": (403, "not_a_winner")},
}


# Co-streaming and PK (media) in the test room, as in MATRIX above.
TEST_ROOM_ROWS.update({
    "GET /v1/rooms/{room_id}/costream": lambda t, c: ("GET", f"/v1/rooms/{t.room}/costream", None, None),
    "POST /v1/rooms/{room_id}/costream/requests": lambda t, c: (
        "POST", f"/v1/rooms/{t.room}/costream/requests", None, None),
    "POST /v1/rooms/{room_id}/costream/requests/{request_id}/accept": lambda t, c: (
        "POST", f"/v1/rooms/{t.room}/costream/requests/viewer-2/accept", None, None),
    "DELETE /v1/rooms/{room_id}/costream/requests/{request_id}": lambda t, c: (
        "DELETE", f"/v1/rooms/{t.room}/costream/requests/viewer-2", None, None),
    "POST /v1/rooms/{room_id}/costream/invitations": lambda t, c: (
        "POST", f"/v1/rooms/{t.room}/costream/invitations", {"user_id": "viewer-2"}, None),
    "POST /v1/rooms/{room_id}/costream/invitations/{request_id}/accept": lambda t, c: (
        "POST", f"/v1/rooms/{t.room}/costream/invitations/viewer-1/accept", None, None),
    "POST /v1/rooms/{room_id}/costream/guests/{request_id}/mute": lambda t, c: (
        "POST", f"/v1/rooms/{t.room}/costream/guests/viewer-2/mute", None, None),
    "PUT /v1/rooms/{room_id}/costream/layout": lambda t, c: (
        "PUT", f"/v1/rooms/{t.room}/costream/layout", {"layout": "grid"}, None),
    "POST /v1/rooms/{room_id}/pk": lambda t, c: (
        "POST", f"/v1/rooms/{t.room}/pk", {"other_room_id": GHOST_ROOM_2, "rule": "likes",
                                          "duration_seconds": 60}, None),
    "DELETE /v1/rooms/{room_id}/pk": lambda t, c: ("DELETE", f"/v1/rooms/{t.room}/pk", None, None),
})


def room_scoped_routes():
    """The routes the specs declare room-scoped (Route.room_from)."""
    return [route for route in ROUTES if getattr(route, "room_from", None)]


def test_room_paths_are_declared_room_scoped():
    """A route with {room_id} in its path is room-scoped: it must say so in its spec."""
    undeclared = [r.key for r in ROUTES if "{room_id}" in r.path and getattr(r, "room_from", None) != "path.room_id"]
    assert undeclared == []


# Path parameters naming something that belongs to one room (a flash sale, a coupon drop, a share
# code; lotteries, polls and quizzes when they come): a route taking one is room-scoped.
ROOM_ENTITY_PARAMS = {"sale_id", "drop_id", "code", "lottery_id", "poll_id", "quiz_id", "clip_id"}


def test_routes_reaching_a_room_are_declared_room_scoped():
    """Derived from the route table and the OpenAPI document, not from a list of routes: a path
    parameter of a room's entity, or a request body or query naming a room, makes a route
    room-scoped, and it must say so (Route.room_from)."""
    import json
    from pathlib import Path

    doc = json.loads((Path(__file__).resolve().parents[3] / "functions" / "docs" / "openapi.json").read_text())
    schemas = doc["components"]["schemas"]
    reaching = set()
    for route in ROUTES:
        params = {part[1:-1] for part in route.path.split("/") if part.startswith("{")}
        if params & ROOM_ENTITY_PARAMS:
            reaching.add(route.key)
        operation = doc["paths"].get(route.path, {}).get(route.method.lower(), {})
        if any(p.get("in") == "query" and p.get("name") in ("room_id", "rooms")
               for p in operation.get("parameters", [])):
            reaching.add(route.key)
        schema = ((operation.get("requestBody") or {}).get("content", {}).get("application/json") or {}).get(
            "schema", {})
        if "$ref" in schema:
            schema = schemas[schema["$ref"].rsplit("/", 1)[-1]]
        if "room_id" in schema.get("properties", {}):
            reaching.add(route.key)
    assert "POST /v1/orders" in reaching and "GET /v1/flash-sales/{sale_id}" in reaching   # the check sees them
    undeclared = sorted(key for key in reaching if key not in {r.key for r in room_scoped_routes()})
    assert undeclared == []


def test_every_room_scoped_route_has_a_test_room_row():
    assert {r.key for r in room_scoped_routes()} == set(TEST_ROOM_ROWS)


def expected_in_a_test_room(route) -> dict[str, object]:
    """Who sees what of host-1's test room: anonymous callers of a token route are stopped by
    the authorizer; a viewer on a hosts-only route by the role check (as for any room); every
    other caller who does not run the room is answered as for a room that does not exist."""
    return {"anonymous": UNAUTHENTICATED if route.auth == "token" else HIDDEN,
            "viewer": FORBIDDEN if route.who in ("host", "operator") else HIDDEN,
            "other_host": HIDDEN, "host": ALLOWED, "operator": ALLOWED, **TEST_ROOM_REFUSALS.get(route.key, {})}


@pytest.fixture
def rehearsal(api, tokens_for, ivs_env) -> Rehearsal:
    """host-1's test room with a listed 1-fen product, a flash sale, a coupon drop, a points
    coupon, a share code, an open poll and quiz: everything a room-scoped route can lead to."""
    host, operator = tokens_for("host-1"), tokens_for("operator-1")

    def ok(method, path, body, token, headers=None):
        response = api.call(method, path, json_body=body, token=token, headers=headers)
        assert response.status in (200, 201), (path, response.status, response.body)
        return response.json()

    room = ok("POST", "/v1/rooms", {"title": "彩排", "scheduled_start": START, "visibility": "test"}, host)["id"]
    product = ok("POST", "/v1/products", {"name": "彩排品", "list_price": 100, "stock": 50}, operator)["id"]
    ok("PUT", f"/v1/rooms/{room}/products", {"items": [{"product_id": product, "live_price": 1,
                                                       "live_stock": 20}]}, host)
    ok("POST", f"/v1/rooms/{room}/products/listing", None, host)
    sale = ok("POST", f"/v1/rooms/{room}/flash-sales", {"product_id": product, "price": 1, "stock": 10,
                                                       "duration_seconds": 600}, host)["id"]
    template = ok("POST", "/v1/coupon-templates", {"name": "彩排券", "kind": "no_threshold", "amount": 100,
                                                   "total": 20, "valid_days": 1, "room_id": room}, host)["id"]
    drop = ok("POST", f"/v1/rooms/{room}/coupon-drops", {"template_id": template, "quantity": 5}, host)["id"]
    points_template = ok("POST", "/v1/coupon-templates", {"name": "积分券", "kind": "no_threshold", "amount": 100,
                                                          "total": 20, "valid_days": 1, "room_id": room,
                                                          "points_cost": 1}, operator)["id"]
    share = ok("POST", f"/v1/rooms/{room}/shares", None, host)["code"]
    other_room = ok("POST", "/v1/rooms", {"title": "对照", "scheduled_start": START}, host)["id"]
    poll = ok("POST", f"/v1/rooms/{room}/polls", {"question": "彩排?", "options": ["是", "否"],
                                                  "duration_seconds": 600}, host)["id"]
    quiz = ok("POST", f"/v1/rooms/{room}/quizzes", {"question": "1+1?", "options": ["1", "2"], "answer": 1,
                                                    "duration_seconds": 600}, host)["id"]
    lottery = ok("POST", f"/v1/rooms/{room}/lotteries", {"kind": "follow", "winners": 1, "duration_seconds": 3600,
                                                         "prize": {"kind": "gift", "name": "彩排礼"}}, host)["id"]
    ok("PUT", "/v1/hosts/host-1/follow", None, operator)     # the operator may enter it (the host may not)
    return Rehearsal(room=room, product=product, sale=sale, template=template, points_template=points_template,
                     drop=drop, share=share, other_room=other_room, poll=poll, quiz=quiz, lottery=lottery)


def _answer(response) -> tuple[int, dict]:
    body = response.json() if response.body else {}
    body.pop("correlation_id", None)
    return response.status, body


@pytest.mark.parametrize("route_key", sorted(TEST_ROOM_ROWS))
def test_room_scoped_route_in_a_test_room(api, tokens_for, rehearsal, route_key):
    route = next(r for r in ROUTES if r.key == route_key)
    build = TEST_ROOM_ROWS[route_key]
    expected = expected_in_a_test_room(route)
    violations = []
    for caller in CALLERS[:5]:   # assistants in a test room: tests/integration/identity/test_room_assistants.py
        token = tokens_for(USER_OF[caller]) if caller != "anonymous" else None
        method, path, body, headers = build(rehearsal, caller)
        response = api.call(method, path, json_body=body, token=token, headers=headers)
        outcome = expected[caller]
        if response.status >= 500:
            violations.append((caller, "5xx", response.status, response.body))
        elif isinstance(outcome, tuple):   # TEST_ROOM_REFUSALS: past the room's visibility, refused by the rule
            if (response.status, response.json().get("code")) != outcome:
                violations.append((caller, f"expected {outcome}", response.status, response.body[:200]))
            continue
        elif outcome == ALLOWED:
            if response.status in (401, 403, 404):
                violations.append((caller, "refused", response.status, response.body))
            continue
        # Exactly the answer for nothing at all: the test room's existence does not leak.
        method, path, body, headers = build(NOTHING, caller)
        nothing = api.call(method, path, json_body=body, token=token, headers=headers)
        if _answer(response) != _answer(nothing):
            violations.append((caller, "differs from nothing", response.status, response.body[:200],
                               nothing.status, nothing.body[:200]))
        elif response.status != (404 if outcome == HIDDEN else outcome):
            violations.append((caller, f"expected {outcome}", response.status, response.body[:200]))
    assert violations == [], (route_key, violations)

"""Engagement routes: thin, they validate, call the service and shape the reply."""
from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Path

from livecommerce.engagement.models import AddressRequest, Claim, CreateLotteryRequest, Entry, LotteryView, Proof
from livecommerce.shared.api import BEARER, Api

Ulid = r"^[0-9A-HJKMNP-TV-Z]{26}$"
RoomId = Annotated[str, Path(pattern=Ulid, description="Room id (ULID).")]
LotteryId = Annotated[str, Path(pattern=Ulid, description="Lottery id (ULID).")]


def _service():
    from livecommerce.engagement import service  # deferred: pynamodb/botocore, not paid at the handler's import

    return service


def build_router(api: Api) -> Router:
    router = Router()

    @router.post("/v1/rooms/<room_id>/lotteries", tags=["engagement"], security=BEARER,
                 summary="Open a lottery (keyword danmaku, follow, share, buyers); its commitment is published")
    def create_lottery(room_id: RoomId, body: CreateLotteryRequest) -> tuple[LotteryView, int]:
        return _service().create_lottery(api.caller(), room_id, body), 201

    @router.get("/v1/lotteries/<lottery_id>", tags=["engagement"],
                summary="A lottery: state, entrants, winners (the host also sees every prize's state)")
    def get_lottery(lottery_id: LotteryId) -> LotteryView:
        return _service().get_lottery(api.optional_caller(), lottery_id)

    @router.get("/v1/lotteries/<lottery_id>/proof", tags=["engagement"],
                summary="Everything needed to recompute the winners (scripts/verify_lottery.py)")
    def get_proof(lottery_id: LotteryId) -> Proof:
        return _service().proof(api.optional_caller(), lottery_id)

    @router.post("/v1/lotteries/<lottery_id>/entries", tags=["engagement"], security=BEARER,
                 summary="Enter a follow, share or buyers lottery (keyword lotteries: send the keyword as danmaku)")
    def enter(lottery_id: LotteryId) -> tuple[Entry, int]:
        return _service().enter(api.caller(), lottery_id), 201

    @router.put("/v1/lotteries/<lottery_id>/winners/me/address", tags=["engagement"], security=BEARER,
                summary="A winner's shipping address for a product or gift prize, within 24 h (stored encrypted)")
    def claim(lottery_id: LotteryId, body: AddressRequest) -> Claim:
        return _service().claim_address(api.caller(), lottery_id, body)

    return router

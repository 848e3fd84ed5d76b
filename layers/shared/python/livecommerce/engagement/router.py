"""Engagement routes: thin, they validate, call the service and shape the reply."""
from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Path

from livecommerce.engagement.models import AddressRequest, Claim, CreateLotteryRequest, Entry, LotteryView, Proof
from livecommerce.engagement.poll_models import (AnswerRequest, Answered, CreatePollRequest, CreateQuizRequest,
                                                 PollView, Voted, VoteRequest)
from livecommerce.shared.api import BEARER, OPTIONAL_BEARER, Api

Ulid = r"^[0-9A-HJKMNP-TV-Z]{26}$"
RoomId = Annotated[str, Path(pattern=Ulid, description="Room id (ULID).")]
LotteryId = Annotated[str, Path(pattern=Ulid, description="Lottery id (ULID).")]
PollId = Annotated[str, Path(pattern=Ulid, description="Poll id (ULID).")]
QuizId = Annotated[str, Path(pattern=Ulid, description="Quiz id (ULID).")]


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

    include_polls(router, api)
    return router


def _polls():
    from livecommerce.engagement import polls  # deferred: pynamodb/botocore, not paid at the handler's import

    return polls


def include_polls(router: Router, api: Api) -> None:
    @router.post("/v1/rooms/<room_id>/polls", tags=["engagement"], security=BEARER,
                 summary="Open a poll (single or multiple choice, timed); live results at most once a second")
    def create_poll(room_id: RoomId, body: CreatePollRequest) -> tuple[PollView, int]:
        return _polls().create_poll(api.caller(), room_id, body), 201

    @router.get("/v1/polls/<poll_id>", tags=["engagement"], security=OPTIONAL_BEARER,
                summary="A poll: options, exact counts, state, the caller's vote")
    def get_poll(poll_id: PollId) -> PollView:
        return _polls().get(api.optional_caller(), poll_id, "poll")

    @router.post("/v1/polls/<poll_id>/votes", tags=["engagement"], security=BEARER,
                 summary="Vote once (option indexes)")
    def vote(poll_id: PollId, body: VoteRequest) -> tuple[Voted, int]:
        return _polls().vote(api.caller(), poll_id, body), 201

    @router.post("/v1/polls/<poll_id>/close", tags=["engagement"], security=BEARER,
                 summary="Close a poll before its timer")
    def close_poll(poll_id: PollId) -> PollView:
        return _polls().close(api.caller(), poll_id, "poll")

    @router.post("/v1/rooms/<room_id>/quizzes", tags=["engagement"], security=BEARER,
                 summary="Ask a quiz question with a timer; the answer stays hidden until it closes")
    def create_quiz(room_id: RoomId, body: CreateQuizRequest) -> tuple[PollView, int]:
        return _polls().create_quiz(api.caller(), room_id, body), 201

    @router.get("/v1/quizzes/<quiz_id>", tags=["engagement"], security=OPTIONAL_BEARER,
                summary="A quiz: while open the question and answer count; once closed the answer, counts, ranking")
    def get_quiz(quiz_id: QuizId) -> PollView:
        return _polls().get(api.optional_caller(), quiz_id, "quiz")

    @router.post("/v1/quizzes/<quiz_id>/answers", tags=["engagement"], security=BEARER,
                 summary="Answer once before the timer; right answers earn points when it closes")
    def answer(quiz_id: QuizId, body: AnswerRequest) -> tuple[Answered, int]:
        return _polls().answer(api.caller(), quiz_id, body), 201

    @router.post("/v1/quizzes/<quiz_id>/close", tags=["engagement"], security=BEARER,
                 summary="Close a quiz: reveal the answer, grant points, publish the ranking")
    def close_quiz(quiz_id: QuizId) -> PollView:
        return _polls().close(api.caller(), quiz_id, "quiz")

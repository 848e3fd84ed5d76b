"""Facts the analytics store keeps that never travel the event bus: likes and danmaku, and the
keyword-lottery entrants found at a lottery's close (LotteryEntered rows, via "danmaku").

At scale a like or a danmaku is far too frequent for an EventBridge event each. The interaction
context's realtime batcher reads them from its table's DynamoDB stream (the per-user like counter
changes, the stored messages) and hands them here in batches; `record` puts them in the
EventBridge envelope shape on the `events` Firehose stream with one PutRecordBatch per 500 facts,
so they become rows through the same transformation as the domain events (event_rows). The
report SQL reads them as `type` 'LikesAdded' (detail.count likes of one user in one minute) and
'DanmakuSent' (one message).
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field

# EventBridge's source for domain events is "livecommerce"; these say who produced them.
SOURCE = "livecommerce.interaction"


class StoreFact(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    detail_type: ClassVar[str]
    source: ClassVar[str] = SOURCE

    fact_id: str = Field(min_length=1, max_length=200)   # the row's event_id: the same on a retried batch
    room_id: str = Field(min_length=1, max_length=128)
    user_id: str = Field(min_length=1, max_length=128)
    at_ms: int = Field(ge=0)                              # when it happened (the stream record's time)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "detail_type" not in cls.__dict__:
            cls.detail_type = cls.__name__

    def detail(self) -> dict[str, Any]:
        return {"event_id": self.fact_id,
                **self.model_dump(mode="json", exclude={"fact_id", "at_ms"}, exclude_none=True)}

    def envelope(self) -> dict[str, Any]:
        from livecommerce.analytics.event_rows import envelope  # deferred: keeps the face's import small

        time = datetime.fromtimestamp(self.at_ms / 1000, tz=timezone.utc).isoformat(timespec="milliseconds")
        return envelope(event_id=self.fact_id, detail_type=self.detail_type, source=self.source,
                        time=time.replace("+00:00", "Z"), detail=self.detail())


class LikesAdded(StoreFact):
    """`count` likes of one user in one room within one minute (those the API accepted)."""

    count: int = Field(ge=1)


class DanmakuSent(StoreFact):
    """One stored danmaku message (fact_id is the message id)."""

    message_id: str = Field(min_length=1, max_length=128)
    kind: str | None = None        # text | phrase
    host: bool = False             # sent by the host or an operator


class LotteryEntrant(StoreFact):
    """A keyword lottery's entrant, found from danmaku at the close: the store row of a
    `LotteryEntered` (engagement's event, the same fields) for the lottery_only viewer tag. A
    keyword lottery may have 100,000 entrants at once, too many for one bus event each; these go
    500 to a PutRecordBatch. fact_id is stable per lottery and entrant, so a re-run close repeats
    ids the report reads once (sql/views/unique_events.sql)."""

    detail_type: ClassVar[str] = "LotteryEntered"
    source: ClassVar[str] = "livecommerce.engagement"

    lottery_id: str = Field(min_length=1, max_length=128)
    via: str = "danmaku"

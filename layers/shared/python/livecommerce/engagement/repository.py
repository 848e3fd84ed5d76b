"""Engagement data access: lotteries, entries, frozen entrant lists, winners, the outbox."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from pynamodb.exceptions import DoesNotExist, PutError

from livecommerce.engagement.draw import PSEUDONYM_BYTES
from livecommerce.engagement.storage import (ENTRY_SHARDS, BuyerItem, CountShardItem, EngagementOutboxItem,
                                             EntryItem, LotteryItem, WinnerItem, WonItem, bind_all, entry_pk,
                                             entry_shard)
from livecommerce.shared import dynamo, outbox

DUE = "LOTDUE"

OUTBOX = outbox.Outbox(EngagementOutboxItem, shards=8, bind=bind_all)
outbox_items = OUTBOX.items
flush_outbox = OUTBOX.flush
sweep_outbox = OUTBOX.sweep


def _conditional_failed(exc: Exception) -> bool:
    return dynamo.error_code(exc) == "ConditionalCheckFailedException"


def get_lottery(lottery_id: str, *, consistent: bool = False) -> LotteryItem | None:
    bind_all()
    try:
        return LotteryItem.get(*LotteryItem.key(lottery_id), consistent_read=consistent)
    except DoesNotExist:
        return None


def due_key(epoch: float, lottery_id: str) -> str:
    return f"{int(epoch):012d}#{lottery_id}"


def due_lotteries(now_epoch: float, limit: int = 100) -> list[LotteryItem]:
    bind_all()
    return list(LotteryItem.due.query(DUE, LotteryItem.gsi1sk < f"{int(now_epoch):012d}~", limit=limit))


def put_entry(lottery_id: str, entrant: str, user_id: str, via: str, at: str) -> bool:
    """One entry per person: False when they had entered already."""
    bind_all()
    try:
        EntryItem(*EntryItem.key(lottery_id, entrant), user_id=user_id, entrant=entrant, via=via,
                  entered_at=at).save(EntryItem.pk.does_not_exist())
    except PutError as exc:
        if _conditional_failed(exc):
            return False
        raise
    # The live count (GET while open), beside the entry's partition; the count frozen at the close
    # is the entries themselves.
    CountShardItem(*CountShardItem.key(lottery_id, entry_shard(entrant))).update(
        actions=[CountShardItem.count.add(1)])
    return True


def put_entries(lottery_id: str, entries: list[tuple[str, str, str, str]]) -> None:
    """Keyword entrants written at the close (entrant, user id, via, at): idempotent puts."""
    bind_all()
    with EntryItem.batch_write() as batch:
        for entrant, user_id, via, at in entries:
            batch.save(EntryItem(*EntryItem.key(lottery_id, entrant), user_id=user_id, entrant=entrant, via=via,
                                 entered_at=at))


def live_count(lottery_id: str) -> int:
    bind_all()
    keys = [CountShardItem.key(lottery_id, shard) for shard in range(ENTRY_SHARDS)]
    return sum(int(i.count or 0) for i in CountShardItem.batch_get(keys))


def get_entry(lottery_id: str, entrant: str) -> EntryItem | None:
    bind_all()
    try:
        return EntryItem.get(*EntryItem.key(lottery_id, entrant), consistent_read=True)
    except DoesNotExist:
        return None


CLOSE_READERS = ENTRY_SHARDS     # one thread per entry partition at the close


def shard_entrants(lottery_id: str, shard: int) -> list[str]:
    """One entry partition's pseudonyms, read consistently, in order (keyed ENT#<pseudonym>; the
    query projects the key only)."""
    bind_all()
    prefix = len("ENT#")
    return [i.sk[prefix:] for i in EntryItem.query(entry_pk(lottery_id, shard), EntryItem.sk.startswith("ENT#"),
                                                   consistent_read=True, attributes_to_get=["sk"])]


def all_entrants(lottery_id: str) -> list[str]:
    """Every entry's pseudonym, sorted (the close freezes them): the ENTRY_SHARDS partitions are read
    in parallel and, being split by the first hex digit, concatenated in shard order."""
    bind_all()
    with ThreadPoolExecutor(CLOSE_READERS) as pool:
        parts = list(pool.map(lambda shard: shard_entrants(lottery_id, shard), range(ENTRY_SHARDS)))
    return [entrant for part in parts for entrant in part]


# The frozen entrant list is one object in the materials bucket (SecureBucket: encrypted with the
# data key, versioned, TLS only), under lotteries/ (the engagement functions' materials_prefix):
# the sorted 12-byte pseudonyms concatenated, 1.2 MB for 100,000 entrants. Its sha256 over the
# published text form is the entrants_hash stored with the lottery and published at the close; the
# draw and every proof read the version written at the close and check it against that hash.
LIST_PREFIX = "lotteries/"


def list_key(lottery_id: str) -> str:
    return f"{LIST_PREFIX}{lottery_id}/entrants.bin"


def _s3():
    from livecommerce.shared import aws  # deferred: boto3 on first use

    return aws.client("s3")


def _bucket() -> str:
    from livecommerce.shared.settings import get_settings  # deferred: settings read on first use

    return get_settings().materials_bucket


def write_list(lottery_id: str, sorted_entrants: list[str]) -> dict:
    """Freeze the list: {"key", "version"} of the object written (the version, when the bucket keeps them)."""
    data = b"".join(bytes.fromhex(e) for e in sorted_entrants)
    put = _s3().put_object(Bucket=_bucket(), Key=list_key(lottery_id), Body=data,
                           ContentType="application/octet-stream")
    return {"key": list_key(lottery_id), "version": put.get("VersionId"), "bytes": len(data)}


def read_list(ref: dict) -> list[str]:
    extra = {"VersionId": ref["version"]} if ref.get("version") else {}
    data = _s3().get_object(Bucket=_bucket(), Key=ref["key"], **extra)["Body"].read()
    if len(data) % PSEUDONYM_BYTES:
        raise RuntimeError(f"{ref['key']}: {len(data)} bytes is not a whole number of pseudonyms")
    return [data[i:i + PSEUDONYM_BYTES].hex() for i in range(0, len(data), PSEUDONYM_BYTES)]


def list_url(ref: dict, expires: int = 3600) -> str:
    """A presigned GET of the frozen list (the proof's entrants_url, for lists too long to inline)."""
    params = {"Bucket": _bucket(), "Key": ref["key"]}
    if ref.get("version"):
        params["VersionId"] = ref["version"]
    return _s3().generate_presigned_url("get_object", Params=params, ExpiresIn=expires)


def winners_of(lottery_id: str) -> list[WinnerItem]:
    bind_all()
    return list(WinnerItem.query(f"LOT#{lottery_id}", WinnerItem.sk.startswith("WIN#"), consistent_read=True))


def get_winner(lottery_id: str, position: int) -> WinnerItem | None:
    bind_all()
    try:
        return WinnerItem.get(*WinnerItem.key(lottery_id, position), consistent_read=True)
    except DoesNotExist:
        return None


def won_position(lottery_id: str, user_id: str) -> int | None:
    bind_all()
    try:
        return int(WonItem.get(*WonItem.key(lottery_id, user_id), consistent_read=True).position)
    except DoesNotExist:
        return None


def record_buyer(room_id: str, user_id: str, order_id: str, expires_at: int) -> None:
    bind_all()
    try:
        BuyerItem(*BuyerItem.key(room_id, user_id), first_order_id=order_id, expires_at=expires_at).save(
            BuyerItem.pk.does_not_exist())
    except PutError as exc:
        if not _conditional_failed(exc):
            raise


def is_buyer(room_id: str, user_id: str) -> bool:
    bind_all()
    try:
        BuyerItem.get(*BuyerItem.key(room_id, user_id), consistent_read=True)
        return True
    except DoesNotExist:
        return False



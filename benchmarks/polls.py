"""Poll votes: accepted votes per second from many threads, with exact counts and one vote per person.

    .venv/bin/python benchmarks/polls.py [--people 10000] [--threads 32] [--options 4]

`--people` viewers each vote twice, from `--threads` threads at once, through the vote's own
transaction (engagement.poll_storage.vote_tx: the vote item once per viewer, +1 on the option's
counter shard, the poll still open; what POST /v1/polls/{id}/votes commits), on moto in process,
one request at a time (local.embedded_aws.serialize_in_process_moto, as the tests and the local
stack: each request atomic, as DynamoDB's are). Checks: exactly `--people` votes accepted, every
second try refused on the vote item (already_voted), the stored votes one per person, and the
sharded counts equal to the accepted votes per option. Prints votes per second.
Moto stands in for DynamoDB: this measures our code and moto, not DynamoDB's throughput (a
transaction takes ~10 ms there; 8 counter shards per option keep a crowd under a partition's limit).

Moto's TransactWriteItems deep-copies every table a transaction touches (once per item) to roll
back a cancelled one, so each vote costs time in proportion to the votes already stored: 1,000
attempts by 500 people took 91 s here, and 10,000 people would take hours. By default this
benchmark swaps that backup for one of just the items the transaction names (restored the same
way when it is cancelled; what the transaction does and checks is moto's own code unchanged):
`--moto-rollback tables` keeps moto's own.
"""
from __future__ import annotations

import argparse
import os
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "layers" / "shared" / "python")]
os.environ.update({"AWS_DEFAULT_REGION": "ap-northeast-1", "AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x",
                   "STAGE": os.environ.get("STAGE", "local"), "ENGAGEMENT_TABLE": "bench-engagement"})


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--people", type=int, default=10_000)
    parser.add_argument("--threads", type=int, default=32)
    parser.add_argument("--options", type=int, default=4)
    parser.add_argument("--moto-rollback", choices=("keys", "tables"), default="keys")
    args = parser.parse_args()
    if args.moto_rollback == "keys":
        key_scoped_moto_rollback()

    import boto3
    from moto import mock_aws

    from livecommerce.engagement import poll_rules as rules, poll_storage as store
    from livecommerce.engagement.spec import ENGAGEMENT
    from livecommerce.shared.clock import iso, utcnow
    from livecommerce.shared.tx import TxCancelled
    from local.embedded_aws import serialize_in_process_moto

    serialize_in_process_moto()
    with mock_aws():
        boto3.client("dynamodb").create_table(
            TableName="bench-engagement", BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": n, "AttributeType": "S"} for n in ("pk", "sk", "gsi1pk", "gsi1sk")],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
            GlobalSecondaryIndexes=[{"IndexName": "gsi1", "Projection": {"ProjectionType": "ALL"},
                                     "KeySchema": [{"AttributeName": "gsi1pk", "KeyType": "HASH"},
                                                   {"AttributeName": "gsi1sk", "KeyType": "RANGE"}]}])
        assert ENGAGEMENT.env_var == "ENGAGEMENT_TABLE"
        now = utcnow()
        poll_id = "01JBENCHP0LL0000000000000A"
        store.save_new(store.PollItem(*store.PollItem.key(poll_id), poll_id=poll_id, kind="poll", room_id="R",
                                      host_id="host-1", created_by="host-1", question="?",
                                      options=[str(n) for n in range(args.options)], state="open",
                                      opens_at=iso(now), closes_at=iso(now), closes_epoch=int(now.timestamp()) + 3600,
                                      created_at=iso(now)))
        accepted: Counter = Counter()
        refused: Counter = Counter()
        lock = threading.Lock()
        attempts = [(n % args.people) for n in range(2 * args.people)]   # everyone twice, interleaved

        def vote(person: int) -> None:
            user = f"viewer-{person:06d}"
            choice = person % args.options
            choices = rules.check_choices([choice], args.options, multiple=False, max_choices=1)
            try:
                store.vote_tx(poll_id, user, choices, rules.shard_of(user), iso(now), 0, time.time()).commit()
                with lock:
                    accepted[choice] += 1
            except TxCancelled as exc:
                with lock:
                    refused["already_voted" if "vote" in exc else "other"] += 1

        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=args.threads) as pool:
            list(pool.map(vote, attempts))
        elapsed = time.perf_counter() - started
        counts = rules.tally(store.counts(poll_id), args.options)
        stored = sum(1 for _ in store.votes(poll_id))
        exact = (sum(accepted.values()) == args.people and refused == Counter({"already_voted": args.people})
                 and stored == args.people and counts == [accepted[i] for i in range(args.options)])
        print(f"votes: {2 * args.people} attempts by {args.people} people from {args.threads} threads in "
              f"{elapsed:.1f} s: {sum(accepted.values()) / elapsed:.0f} accepted votes/s "
              f"({2 * args.people / elapsed:.0f} attempts/s)")
        print(f"accepted {sum(accepted.values())}, refused {dict(refused)}, stored votes {stored}, counts {counts}")
        print("exact counts, one vote per person:", "OK" if exact else "FAILED")
        return 0 if exact else 1


def key_scoped_moto_rollback() -> None:
    """Moto's transaction rollback by the items the transaction names, not deep copies of whole tables."""
    import copy as real_copy
    import types

    from moto.dynamodb import models
    from moto.dynamodb.models.table import Table

    def deepcopy(value, memo=None):
        return value if isinstance(value, Table) else real_copy.deepcopy(value, memo)

    models.copy = types.SimpleNamespace(deepcopy=deepcopy, copy=real_copy.copy)   # moto's table backup: a no-op
    original = models.DynamoDBBackend.transact_write_items

    def transact_write_items(self, transact_items):
        saved = []
        for entry in transact_items:
            _, op = next(iter(entry.items()))
            table = self.get_table(op["TableName"])
            key = op.get("Key") or {k: op["Item"][k] for k in (table.hash_key_attr, table.range_key_attr) if k}
            found = self.get_item(op["TableName"], key)
            saved.append((op["TableName"], key, real_copy.deepcopy(found.to_json()["Attributes"]) if found else None))
        try:
            return original(self, transact_items)
        except Exception:
            for table_name, key, attrs in saved:
                if attrs is None:
                    if self.get_item(table_name, key) is not None:
                        self.delete_item(table_name, key)
                else:
                    self.put_item(table_name, attrs)
            raise

    models.DynamoDBBackend.transact_write_items = transact_write_items


if __name__ == "__main__":
    raise SystemExit(main())

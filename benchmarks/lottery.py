"""Lottery figures: entries accepted per second, and close, draw and proof for 100,000 entrants.

    .venv/bin/python benchmarks/lottery.py [--entries 10000] [--threads 32] [--entrants 100000]

1. Entries: `--entries` viewers each enter twice, from `--threads` threads at once, through
   engagement.repository.put_entry (the conditional put and counter add of POST .../entries) on
   moto in process, one request at a time (local.embedded_aws.serialize_in_process_moto, as the
   tests and the local stack: each request atomic, as DynamoDB's are). Prints accepted entries
   per second and checks one entry per person: exactly `--entries` accepted, every second try
   refused, the stored entries and the live counter exact. `--entries 0` skips it.
2. Close, draw and proof for `--entrants` entries stored as the service stores them (ENT# items in
   16 partitions by the pseudonym's first hex digit): close = the 16 partitions queried consistently
   in parallel (keys only, each already sorted, concatenated in shard order), the list hash, the
   frozen list written as one S3 object; draw = the object read back and checked against its hash,
   the drand beacon verified (py_ecc, BLS12-381 pairing in pure Python), the commitment, the
   shuffle for 100 winners; proof = the proof's presigned link downloaded and everything checked by
   scripts/verify_lottery.py (BLS again). Goal: draw and proof < 5 s.
Moto stands in for DynamoDB and S3: real latency differs. The close's DynamoDB cost is printed from
the stored items' sizes (a consistent Query reads 1 RCU per 4 KB of whole items, the projection does
not lower it; a page is at most 1 MB): the read units and the pages per partition, so the time on
DynamoDB can be estimated from its page latency (not measured here: no AWS account).
"""
from __future__ import annotations

import argparse
import importlib.util
import os
import secrets
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "layers" / "shared" / "python")]
os.environ.update({"AWS_DEFAULT_REGION": "ap-northeast-1", "AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x",
                   "STAGE": os.environ.get("STAGE", "local"), "ENGAGEMENT_TABLE": "bench-engagement",
                   "MATERIALS_BUCKET": "bench-materials"})


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--entries", type=int, default=10_000)
    parser.add_argument("--threads", type=int, default=32)
    parser.add_argument("--entrants", type=int, default=100_000)
    args = parser.parse_args()

    import boto3
    from moto import mock_aws

    from local.embedded_aws import serialize_in_process_moto
    from livecommerce.engagement import beacon, draw, repository
    from livecommerce.engagement.spec import ENGAGEMENT
    from livecommerce.engagement.storage import EntryItem, bind_all
    from local.standins.drand import DrandChain

    spec = importlib.util.spec_from_file_location("verify_lottery", ROOT / "scripts" / "verify_lottery.py")
    verifier = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(verifier)
    serialize_in_process_moto()

    with mock_aws():
        boto3.client("s3").create_bucket(Bucket="bench-materials",
                                         CreateBucketConfiguration={"LocationConstraint": "ap-northeast-1"})
        boto3.client("s3").put_bucket_versioning(Bucket="bench-materials",
                                                 VersioningConfiguration={"Status": "Enabled"})
        boto3.client("dynamodb").create_table(
            TableName="bench-engagement", BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": n, "AttributeType": "S"} for n in ("pk", "sk", "gsi1pk", "gsi1sk")],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
            GlobalSecondaryIndexes=[{"IndexName": ENGAGEMENT.indexes[0].name, "Projection": {"ProjectionType": "ALL"},
                                     "KeySchema": [{"AttributeName": "gsi1pk", "KeyType": "HASH"},
                                                   {"AttributeName": "gsi1sk", "KeyType": "RANGE"}]}])
        lottery_id, salt = "01J000000000000000000BENCH", secrets.token_hex(16)
        if args.entries:
            users = [f"viewer-{i}" for i in range(args.entries)]
            attempts = users + users                      # everyone tries twice

            def enter(user: str) -> bool:
                return repository.put_entry(lottery_id, draw.pseudonym(salt, user), user, "entry",
                                            "2026-01-01T00:00:00Z")

            started = time.perf_counter()
            with ThreadPoolExecutor(args.threads) as pool:
                results = list(pool.map(enter, attempts))
            took = time.perf_counter() - started
            accepted = sum(results)
            stored = len(repository.all_entrants(lottery_id))
            live = repository.live_count(lottery_id)
            print(f"entries: {len(attempts)} attempts from {args.threads} threads in {took:.2f} s: "
                  f"{accepted / took:.0f} accepted entries/s ({len(attempts) / took:.0f} attempts/s)")
            print(f"  accepted {accepted}, refused {len(attempts) - accepted}, stored {stored}, live count {live}: "
                  f"{'exact, one per person' if accepted == stored == live == args.entries else 'WRONG'}")

        # -- close, draw and proof for --entrants ----------------------------------------------
        draw_id = "01J00000000000000000DRAW01"
        t = time.perf_counter()
        bind_all()
        pseudonyms = [draw.pseudonym(salt, f"u{i}") for i in range(args.entrants)]
        with EntryItem.batch_write() as batch:
            for i, entrant in enumerate(pseudonyms):
                batch.save(EntryItem(*EntryItem.key(draw_id, entrant), user_id=f"u{i}", entrant=entrant,
                                     via="entry", entered_at="2026-01-01T00:00:00Z"))
        print(f"setup (not timed): {args.entrants} entries stored in {time.perf_counter() - t:.1f} s")
        chain = DrandChain(period=3)
        secret = secrets.token_hex(32)
        b = chain.beacon(chain.latest_round())     # signed ahead: the stand-in's signing is not ours to time

        from livecommerce.engagement.storage import ENTRY_SHARDS, entry_shard
        item = boto3.client("dynamodb").get_item(TableName="bench-engagement",
                                                 Key={"pk": {"S": EntryItem.key(draw_id, pseudonyms[0])[0]},
                                                      "sk": {"S": EntryItem.key(draw_id, pseudonyms[0])[1]}})["Item"]
        item_bytes = sum(len(k.encode()) + len(next(iter(v.values())).encode()) for k, v in item.items())
        per_shard = [0] * ENTRY_SHARDS
        for entrant in pseudonyms:
            per_shard[entry_shard(entrant)] += 1
        rcu = sum(-(-n * item_bytes // 4096) for n in per_shard)
        pages = max(-(-n * item_bytes // (1 << 20)) for n in per_shard)
        print(f"close on DynamoDB (estimated): {args.entrants} items of about {item_bytes} B in {ENTRY_SHARDS} "
              f"partitions ({min(per_shard)}-{max(per_shard)} each): {rcu} read units (consistent), at most "
              f"{pages} page(s) of 1 MB per partition, the partitions read in parallel")

        t0 = time.perf_counter()
        entrants = repository.all_entrants(draw_id)
        list_hash = draw.entrants_hash(entrants)
        ref = repository.write_list(draw_id, entrants)
        t1 = time.perf_counter()
        back = repository.read_list(ref)
        assert draw.entrants_hash(back) == list_hash and back == sorted(set(pseudonyms))
        assert beacon.verify("pedersen-bls-unchained", chain.public_key, beacon.Beacon(**b))
        assert draw.commitment(secret)
        won = draw.winners(draw_id, secret, back, b["randomness"], 100)
        t2 = time.perf_counter()
        proof = {"lottery_id": draw_id, "secret": secret, "commitment": draw.commitment(secret),
                 "entrants": None, "entrants_url": repository.list_url(ref), "entrants_count": len(back),
                 "entrants_hash": list_hash, "positions": 100,
                 "beacon": {"round": b["round"], "chain": {"public_key": chain.public_key,
                                                           "scheme": "pedersen-bls-unchained", "period": 3,
                                                           "genesis_time": chain.genesis_time}, "beacon": b},
                 "drawn": [{"position": i, "entrant": e} for i, e in enumerate(won)]}
        import urllib.request
        real_urlopen = urllib.request.urlopen

        def urlopen_in_moto(url, timeout=None):   # the presigned link, answered by moto in process
            import io
            return io.BytesIO(boto3.client("s3").get_object(Bucket="bench-materials", Key=ref["key"])["Body"].read())
        verifier.urllib.request.urlopen = urlopen_in_moto
        try:
            problems, _ = verifier.verify(proof)
        finally:
            verifier.urllib.request.urlopen = real_urlopen
        t3 = time.perf_counter()
        print(f"{len(entrants)} entrants, 100 winners: close (query every entry, hash, freeze one "
              f"{ref['bytes'] / 1e6:.1f} MB S3 object) {t1 - t0:.2f} s; draw (read back + hash check, BLS beacon "
              f"check, commitment, shuffle) {t2 - t1:.2f} s; proof (link downloaded, verified by "
              f"scripts/verify_lottery.py) {t3 - t2:.2f} s ({'ok' if not problems else problems})")
        total = t3 - t1
        print(f"draw and proof: {total:.2f} s (goal < 5 s): {'met' if total < 5 else 'NOT met'}; "
              f"with the close: {t3 - t0:.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())

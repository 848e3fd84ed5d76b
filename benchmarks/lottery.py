"""Lottery figures: entries accepted per second, and draw + proof time for 100,000 entrants.

    .venv/bin/python benchmarks/lottery.py [--entries 10000] [--threads 32] [--entrants 100000]

1. Entries: `--entries` viewers each enter twice, from `--threads` threads at once, through
   engagement.repository.put_entry (the conditional put of POST .../entries) on moto in
   process. Prints accepted entries per second, and checks one entry per person: exactly
   `--entries` accepted, every second try refused, the stored entries counted exactly.
2. Draw: `--entrants` pseudonyms; times freezing the list (sort, hash, the chunked list
   written to and read back from the table), the draw (BLS beacon check, commitment, seed,
   shuffle) and the proof check by scripts/verify_lottery.py. Goal: draw and proof < 5 s.
Moto stands in for DynamoDB: real DynamoDB latency differs (about 5-10 ms per write).
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
                   "STAGE": os.environ.get("STAGE", "local"), "ENGAGEMENT_TABLE": "bench-engagement"})


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--entries", type=int, default=10_000)
    parser.add_argument("--threads", type=int, default=32)
    parser.add_argument("--entrants", type=int, default=100_000)
    args = parser.parse_args()

    import boto3
    from moto import mock_aws

    from livecommerce.engagement import beacon, draw, repository
    from livecommerce.engagement.spec import ENGAGEMENT
    from local.standins.drand import DrandChain

    spec = importlib.util.spec_from_file_location("verify_lottery", ROOT / "scripts" / "verify_lottery.py")
    verifier = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(verifier)

    with mock_aws():
        boto3.client("dynamodb").create_table(
            TableName="bench-engagement", BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": n, "AttributeType": "S"} for n in ("pk", "sk", "gsi1pk", "gsi1sk")],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
            GlobalSecondaryIndexes=[{"IndexName": ENGAGEMENT.indexes[0].name, "Projection": {"ProjectionType": "ALL"},
                                     "KeySchema": [{"AttributeName": "gsi1pk", "KeyType": "HASH"},
                                                   {"AttributeName": "gsi1sk", "KeyType": "RANGE"}]}])
        lottery_id, salt = "01J000000000000000000BENCH", secrets.token_hex(16)
        users = [f"viewer-{i}" for i in range(args.entries)]
        attempts = users + users                      # everyone tries twice

        def enter(user: str) -> bool:
            return repository.put_entry(lottery_id, draw.pseudonym(salt, user), user, "entry", "2026-01-01T00:00:00Z")

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

        # -- the draw for --entrants ------------------------------------------------------
        chain = DrandChain(period=3)
        secret = secrets.token_hex(32)
        t0 = time.perf_counter()
        entrants = sorted({draw.pseudonym(salt, f"u{i}") for i in range(args.entrants)})
        list_hash = draw.entrants_hash(entrants)
        t1 = time.perf_counter()
        chunks = repository.write_list("01J00000000000000000DRAW01", entrants)
        back = repository.read_list("01J00000000000000000DRAW01", chunks)
        t2 = time.perf_counter()
        b = chain.beacon(chain.latest_round())
        assert beacon.verify("pedersen-bls-unchained", chain.public_key, beacon.Beacon(**b))
        assert draw.commitment(secret) and draw.entrants_hash(back) == list_hash
        won = draw.winners(lottery_id, secret, back, b["randomness"], 100)
        t3 = time.perf_counter()
        proof = {"lottery_id": lottery_id, "secret": secret, "commitment": draw.commitment(secret),
                 "entrants": back, "entrants_hash": list_hash, "positions": 100,
                 "beacon": {"round": b["round"], "chain": {"public_key": chain.public_key,
                                                           "scheme": "pedersen-bls-unchained", "period": 3,
                                                           "genesis_time": chain.genesis_time}, "beacon": b},
                 "drawn": [{"position": i, "entrant": e} for i, e in enumerate(won)]}
        problems, _ = verifier.verify(proof)
        t4 = time.perf_counter()
        print(f"draw of 100 winners among {len(entrants)} entrants: pseudonyms+sort+hash {t1 - t0:.2f} s, "
              f"list frozen to {chunks} chunks and read back {t2 - t1:.2f} s, beacon check + draw {t3 - t2:.3f} s, "
              f"proof verified by scripts/verify_lottery.py {t4 - t3:.2f} s ({'ok' if not problems else problems})")
        total = t4 - t0
        print(f"draw and proof: {total:.2f} s (goal < 5 s): {'met' if total < 5 else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

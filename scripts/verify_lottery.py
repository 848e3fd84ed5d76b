#!/usr/bin/env python3
"""Recompute a lottery's winners from its published proof, and check every link.

    curl -s https://<api>/v1/lotteries/<id>/proof > proof.json
    python scripts/verify_lottery.py proof.json        # exit 0: the proof verifies

Standalone on purpose: it imports nothing of ours (hashlib and py_ecc, the Ethereum
Foundation's BLS12-381 library: `pip install py_ecc`), so it checks our code rather
than trusting it. It checks that

1. sha256(secret) is the commitment published when the lottery opened;
2. sha256 of the entrant list (sorted pseudonyms joined by "\\n") is the hash published
   at the close, and the list is sorted and without repeats (a list longer than 20,000 is not
   inlined: the script downloads `entrants_url`, the 12-byte pseudonyms concatenated);
3. the drand beacon is the pinned chain's BLS signature of its round (the chain's key,
   scheme, period and genesis are in the proof; compare the key with drand's own
   https://api.drand.sh/info), its randomness is sha256(signature), and the round was
   emitted after the close (so nobody knew it at the opening or the close);
4. the winners (and redraws) are positions 0..positions-1 of the partial Fisher-Yates
   shuffle seeded by sha256("lc-lottery-v1|id|secret|entrants_hash|randomness").

A viewer finds themself in the list as HMAC-SHA256(salt, their user id), first 12 bytes.
"""
from __future__ import annotations

import functools
import hashlib
import json
import struct
import sys
import urllib.request
from datetime import datetime

TWO64 = 1 << 64


def shuffle(entrants: list[str], positions: int, seed: bytes) -> list[str]:
    pool, n = list(entrants), len(entrants)
    blocks = (hashlib.sha256(seed + struct.pack(">Q", c)).digest() for c in range(1 << 62))
    words = (w for block in blocks for w in struct.unpack(">4Q", block))
    for i in range(min(positions, n)):
        limit = TWO64 - TWO64 % (n - i)
        word = next(words)
        while word >= limit:
            word = next(words)
        j = i + word % (n - i)
        pool[i], pool[j] = pool[j], pool[i]
    return pool[:min(positions, n)]


@functools.lru_cache(maxsize=64)
def bls_verify(public_key: bytes, message: bytes, signature: bytes) -> bool:
    """drand's pedersen schemes: BLS12-381, key on G1, signature on G2, ciphersuite
    BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_NUL_ (py_ecc's G2Basic). About 0.45 s."""
    from py_ecc.bls import G2Basic

    return bool(G2Basic.Verify(public_key, message, signature))


def beacon_ok(chain: dict, beacon: dict) -> str | None:
    signature = bytes.fromhex(beacon["signature"])
    if hashlib.sha256(signature).hexdigest() != beacon["randomness"]:
        return "the beacon's randomness is not sha256(signature)"
    round_bytes = struct.pack(">Q", int(beacon["round"]))
    if chain["scheme"] == "pedersen-bls-unchained":
        message = hashlib.sha256(round_bytes).digest()
    elif chain["scheme"] == "pedersen-bls-chained":
        message = hashlib.sha256(bytes.fromhex(beacon.get("previous_signature") or "") + round_bytes).digest()
    else:
        return f"unknown drand scheme {chain['scheme']}"
    if not bls_verify(bytes.fromhex(chain["public_key"]), message, signature):
        return "the beacon's BLS signature does not verify with the chain's public key"
    return None


def download_entrants(url: str) -> list[str]:
    """A long list is linked, not inlined: the sorted 12-byte pseudonyms concatenated."""
    with urllib.request.urlopen(url, timeout=30) as response:  # noqa: S310 - the proof's own link
        data = response.read()
    return [data[i:i + 12].hex() for i in range(0, len(data), 12)]


def verify(proof: dict) -> tuple[list[str], list[str]]:
    """(problems, recomputed positions). No problems: the proof verifies."""
    problems: list[str] = []
    secret, entrants = proof.get("secret"), proof.get("entrants")
    if entrants is None:
        entrants = download_entrants(proof["entrants_url"]) if proof.get("entrants_url") else []
    if not secret:
        return ["no secret yet: the lottery has not been drawn"], []
    if hashlib.sha256(bytes.fromhex(secret)).hexdigest() != proof["commitment"]:
        problems.append("sha256(secret) is not the commitment published at the opening")
    if entrants != sorted(set(entrants)):
        problems.append("the entrant list is not sorted or has repeats")
    if proof.get("entrants_count") is not None and int(proof["entrants_count"]) != len(entrants):
        problems.append("the entrant list does not have the number of entrants frozen at the close")
    list_hash = hashlib.sha256("\n".join(entrants).encode("ascii")).hexdigest()
    if list_hash != proof["entrants_hash"]:
        problems.append("the entrant list does not hash to the entrants_hash published at the close")
    info = proof["beacon"]
    chain, beacon = info["chain"], info["beacon"]
    if int(beacon["round"]) != int(info["round"]):
        problems.append("the beacon is not the round named at the close")
    problem = beacon_ok(chain, beacon)
    if problem:
        problems.append(problem)
    emitted = chain["genesis_time"] + (int(beacon["round"]) - 1) * chain["period"]
    closed = datetime.fromisoformat(proof["closed_at"].replace("Z", "+00:00")).timestamp() \
        if proof.get("closed_at") else None
    if closed is not None and emitted <= closed:
        problems.append("the beacon round was emitted before the close")
    material = "|".join(("lc-lottery-v1", proof["lottery_id"], secret.lower(), list_hash, beacon["randomness"].lower()))
    order = shuffle(entrants, int(proof["positions"]), hashlib.sha256(material.encode("ascii")).digest())
    published = [d["entrant"] for d in sorted(proof.get("drawn") or [], key=lambda d: d["position"])]
    if order != published:
        problems.append("the published winners are not the recomputed ones")
    return problems, order


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__)
        return 2
    with open(argv[1], encoding="utf-8") as f:
        proof = json.load(f)
    problems, order = verify(proof)
    for rank, entrant in enumerate(order, 1):
        print(f"position {rank}: {entrant}")
    if problems:
        for problem in problems:
            print("FAILS:", problem)
        return 1
    print(f"verified: {len(order)} positions of {proof.get('entrants_count')} entrants")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

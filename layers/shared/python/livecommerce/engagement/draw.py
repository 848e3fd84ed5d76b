"""The verifiable draw (pure: no I/O). scripts/verify_lottery.py reimplements it from
the published proof alone, with nothing of ours imported.

  opening   a random 32-byte server `secret` and a public 16-byte `salt`; the
            `commitment` sha256(secret) is published (nobody can change the secret later)
  entrants  each user appears as a per-lottery pseudonym HMAC-SHA256(salt, user id)[:12]
            (hex): the list can be public without showing user ids, and a viewer who knows
            the salt can find themself in it
  close     the sorted pseudonym list is frozen; `entrants_hash` = sha256 of the list
            joined by "\\n" is published, with the drand round whose time is after the close
  draw      seed = sha256("lc-lottery-v1" | lottery id | secret | entrants_hash | beacon
            randomness); a SHA-256 counter DRBG (block i = sha256(seed | i as 8 bytes
            big-endian)) yields 64-bit integers; an integer below n is drawn by rejection
            (no modulo bias); a partial Fisher-Yates shuffle of the sorted list puts the
            winners at positions 0..k-1, in rank order
  redraw    a forfeited prize goes to the next position of the same shuffle (k, k+1, ...),
            so every redraw is as checkable as the draw: the proof says how many positions
            were drawn
"""
from __future__ import annotations

import hashlib
import hmac
import struct
from typing import Iterator, Sequence

VERSION = "lc-lottery-v1"
PSEUDONYM_BYTES = 12
SECRET_BYTES = 32
SALT_BYTES = 16
_TWO64 = 1 << 64


def pseudonym(salt_hex: str, user_id: str) -> str:
    return hmac.new(bytes.fromhex(salt_hex), user_id.encode("utf-8"), hashlib.sha256).hexdigest()[:2 * PSEUDONYM_BYTES]


def commitment(secret_hex: str) -> str:
    return hashlib.sha256(bytes.fromhex(secret_hex)).hexdigest()


def entrants_hash(sorted_entrants: Sequence[str]) -> str:
    return hashlib.sha256("\n".join(sorted_entrants).encode("ascii")).hexdigest()


def seed(lottery_id: str, secret_hex: str, list_hash: str, randomness_hex: str) -> bytes:
    material = "|".join((VERSION, lottery_id, secret_hex.lower(), list_hash.lower(), randomness_hex.lower()))
    return hashlib.sha256(material.encode("ascii")).digest()


def _words(seed_bytes: bytes) -> Iterator[int]:
    counter = 0
    while True:
        block = hashlib.sha256(seed_bytes + struct.pack(">Q", counter)).digest()
        counter += 1
        yield from struct.unpack(">4Q", block)


def _below(words: Iterator[int], n: int) -> int:
    """A uniform integer in [0, n): 64-bit words above the largest multiple of n are rejected."""
    limit = _TWO64 - (_TWO64 % n)
    while True:
        word = next(words)
        if word < limit:
            return word % n


def shuffled_prefix(sorted_entrants: Sequence[str], positions: int, seed_bytes: bytes) -> list[str]:
    """The first `positions` places of a Fisher-Yates shuffle of the list (winners, then
    the redraw order). Needs the list sorted, as frozen at the close."""
    pool = list(sorted_entrants)
    n = len(pool)
    words = _words(seed_bytes)
    for i in range(min(positions, n)):
        j = i + _below(words, n - i)
        pool[i], pool[j] = pool[j], pool[i]
    return pool[:min(positions, n)]


def winners(lottery_id: str, secret_hex: str, sorted_entrants: Sequence[str], randomness_hex: str,
            positions: int) -> list[str]:
    """The drawn positions (ranks 1..positions): what the proof lets anyone recompute."""
    list_hash = entrants_hash(sorted_entrants)
    return shuffled_prefix(sorted_entrants, positions, seed(lottery_id, secret_hex, list_hash, randomness_hex))


def round_after(genesis_time: int, period: int, at_epoch: float) -> int:
    """The first drand round emitted strictly after `at_epoch` (round r is emitted at
    genesis + (r - 1) * period)."""
    if at_epoch < genesis_time:
        return 1 if genesis_time > at_epoch else 2
    return int((at_epoch - genesis_time) // period) + 2


def round_time(genesis_time: int, period: int, round_number: int) -> int:
    return genesis_time + (round_number - 1) * period

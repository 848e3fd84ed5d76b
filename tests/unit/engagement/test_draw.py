"""The verifiable draw's pure rules, and the standalone verifier against them."""
from __future__ import annotations

import copy
import hashlib
import importlib.util
import secrets
from collections import Counter
from pathlib import Path

from hypothesis import given, settings, strategies as st

from livecommerce.engagement import beacon, draw

ROOT = Path(__file__).resolve().parents[3]
_spec = importlib.util.spec_from_file_location("verify_lottery", ROOT / "scripts" / "verify_lottery.py")
verify_lottery = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(verify_lottery)

LOTTERY = "01J0000000000000000000LOTT"
entrant_lists = st.lists(st.binary(min_size=12, max_size=12).map(bytes.hex), min_size=1, max_size=300, unique=True)


@given(entrant_lists, st.integers(1, 400), st.binary(min_size=32, max_size=32))
def test_winners_are_distinct_entrants_and_a_prefix_of_longer_draws(entrants, k, seed):
    entrants = sorted(entrants)
    won = draw.shuffled_prefix(entrants, k, seed)
    assert len(won) == min(k, len(entrants)) and len(set(won)) == len(won) and set(won) <= set(entrants)
    # Redraws continue the same shuffle: drawing more positions never changes the earlier ones.
    assert draw.shuffled_prefix(entrants, k + 3, seed)[:len(won)] == won


@settings(max_examples=50)
@given(entrant_lists, st.integers(1, 5))
def test_each_input_changes_the_result(entrants, k):
    entrants = sorted(entrants)
    secret, randomness = secrets.token_hex(32), secrets.token_hex(32)
    base = draw.winners(LOTTERY, secret, entrants, randomness, len(entrants))   # the whole order
    if len(entrants) < 6:
        return            # few orders exist: two inputs may give the same one by chance
    assert draw.winners(LOTTERY, secrets.token_hex(32), entrants, randomness, len(entrants)) != base
    assert draw.winners(LOTTERY, secret, entrants, secrets.token_hex(32), len(entrants)) != base
    assert draw.winners("01J0000000000000000000OTHR", secret, entrants, randomness, len(entrants)) != base
    fewer = entrants[1:]
    assert draw.entrants_hash(fewer) != draw.entrants_hash(entrants)


def test_no_modulo_bias_rejection_and_uniformity():
    # n = 3 does not divide 2**64: words at or above 2**64 - 2**64 % 3 are rejected, not folded.
    words = iter([(1 << 64) - 1, 5])
    assert draw._below(words, 3) == 5 % 3
    counts = Counter(draw.shuffled_prefix(["a", "b", "c", "d"], 1, hashlib.sha256(str(i).encode()).digest())[0]
                     for i in range(8000))
    assert all(1800 < c < 2200 for c in counts.values()), counts


def test_pseudonyms_commitment_and_rounds():
    salt = secrets.token_hex(16)
    assert draw.pseudonym(salt, "u1") == draw.pseudonym(salt, "u1") != draw.pseudonym(salt, "u2")
    assert draw.pseudonym(salt, "u1") != draw.pseudonym(secrets.token_hex(16), "u1")
    assert len(draw.pseudonym(salt, "u1")) == 24
    assert draw.commitment("00" * 32) == hashlib.sha256(bytes(32)).hexdigest()
    # Round r is emitted at genesis + (r-1)*period; the chosen round is strictly after the moment.
    for at in (1000.0, 1002.9, 1003.0, 1029.5):
        r = draw.round_after(1000, 3, at)
        assert draw.round_time(1000, 3, r) > at >= draw.round_time(1000, 3, r - 1) - 3


def _proof(n=50, k=3):
    from local.standins.drand import DrandChain

    chain = DrandChain(period=3, genesis_time=1_700_000_000)
    salt, secret = secrets.token_hex(16), secrets.token_hex(32)
    entrants = sorted({draw.pseudonym(salt, f"user-{i}") for i in range(n)})
    closed = 1_700_000_100
    rnd = draw.round_after(chain.genesis_time, chain.period, closed)
    b = chain.beacon(rnd, early=True)
    won = draw.winners(LOTTERY, secret, entrants, b["randomness"], k)
    return chain, {
        "lottery_id": LOTTERY, "salt": salt, "commitment": draw.commitment(secret), "secret": secret,
        "entrants": entrants, "entrants_hash": draw.entrants_hash(entrants), "positions": k,
        "closed_at": "2023-11-14T22:15:00Z",
        "beacon": {"round": rnd, "chain": {"public_key": chain.public_key, "scheme": "pedersen-bls-unchained",
                                           "period": chain.period, "genesis_time": chain.genesis_time},
                   "beacon": b},
        "drawn": [{"position": i, "entrant": e} for i, e in enumerate(won)]}


def test_the_standalone_verifier_accepts_a_true_proof_and_catches_each_tampering():
    chain, proof = _proof()
    problems, order = verify_lottery.verify(proof)
    assert problems == [] and order == [d["entrant"] for d in proof["drawn"]]
    assert beacon.verify("pedersen-bls-unchained", chain.public_key, beacon.Beacon(**proof["beacon"]["beacon"]))

    def broken(change):
        bad = copy.deepcopy(proof)
        change(bad)
        return verify_lottery.verify(bad)[0]

    # A wrong commitment (the secret is not the committed one) is detected.
    assert any("commitment" in p for p in broken(lambda p: p.update(secret=secrets.token_hex(32))))
    assert any("commitment" in p for p in broken(lambda p: p.update(commitment="0" * 64)))
    # An entrant removed after the close: the hash no longer matches.
    assert any("entrants_hash" in p for p in broken(lambda p: p["entrants"].pop()))
    # Another beacon value (a forged signature or randomness) fails the BLS check.
    other = chain.beacon(proof["beacon"]["round"] + 1, early=True)
    assert any("BLS" in p or "round" in p for p in broken(lambda p: p["beacon"].update(beacon=other)))
    assert any("randomness" in p for p in broken(lambda p: p["beacon"]["beacon"].update(randomness="1" * 64)))
    # Other winners than the recomputed ones.
    def swap_first_winner(p):
        p["drawn"][0]["entrant"] = next(e for e in p["entrants"] if e not in {d["entrant"] for d in p["drawn"]})
    assert any("winners" in p for p in broken(swap_first_winner))
    # A beacon from a key that is not the chain's.
    from local.standins.drand import DrandChain
    impostor = DrandChain(seed=b"impostor", period=3, genesis_time=chain.genesis_time)
    forged = impostor.beacon(proof["beacon"]["round"], early=True)
    assert any("BLS" in p for p in broken(lambda p: p["beacon"].update(beacon=forged)))

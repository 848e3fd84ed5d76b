"""drand beacons verified with py_ecc: a real round of drand's mainnet (pedersen-bls-chained),
and the local stand-in's chain (pedersen-bls-unchained) signed in the same ciphersuite."""
from __future__ import annotations

import hashlib

from livecommerce.engagement import beacon
from livecommerce.engagement.settings import MAINNET_PUBLIC_KEY

# Round 1337 of drand's mainnet "default" chain (https://api.drand.sh/public/1337; the vector
# noislabs/drand-verify publishes): the message is sha256(previous_signature || round, 8 bytes BE).
MAINNET_1337 = beacon.Beacon(
    round=1337,
    randomness="2660664f8d4bc401194d80d81da20a1e79480f65b8e2d205aecbd143b5bfb0d3",
    signature="945b08dcb30e24da281ccf14a646f0630ceec515af5c5895e18cc1b19edd65d156b71c776a369af3487f1bc6af1062500b"
              "059e01095cc0eedce91713977d7735cac675554edfa0d0481bb991ed93d333d08286192c05bf6b65d20f23a37fc7bb",
    previous_signature="80d95247ddf1bb3acf5738497a5f10406be283144603f63d714bb1a44ff6b93285ae2697fffeb50c68862bd9fbe"
                       "cd4b204b1798d2686b4ac5d573615031d9d67e6168bde9a7adf1161430a498ca701a25c216aee3e38ffd529036"
                       "9034fa050a2")


def test_a_real_mainnet_round_verifies_against_the_pinned_key_and_a_changed_one_does_not():
    assert hashlib.sha256(bytes.fromhex(MAINNET_1337.signature)).hexdigest() == MAINNET_1337.randomness
    assert beacon.verify("pedersen-bls-chained", MAINNET_PUBLIC_KEY, MAINNET_1337)
    # The same signature presented as another round: the message differs, the pairing check fails.
    moved = beacon.Beacon(**{**MAINNET_1337.as_dict(), "round": 1338})
    assert not beacon.verify("pedersen-bls-chained", MAINNET_PUBLIC_KEY, moved)
    # Cheap refusals before any pairing: randomness not sha256(signature), no previous signature
    # for a chained round, bytes that are no point, an unknown scheme.
    assert not beacon.verify("pedersen-bls-chained", MAINNET_PUBLIC_KEY,
                             beacon.Beacon(**{**MAINNET_1337.as_dict(), "randomness": "00" * 32}))
    assert not beacon.verify("pedersen-bls-chained", MAINNET_PUBLIC_KEY,
                             beacon.Beacon(**{**MAINNET_1337.as_dict(), "previous_signature": None}))
    junk = "11" * 96
    assert not beacon.verify("pedersen-bls-chained", MAINNET_PUBLIC_KEY, beacon.Beacon(
        round=1337, randomness=hashlib.sha256(bytes.fromhex(junk)).hexdigest(), signature=junk,
        previous_signature=MAINNET_1337.previous_signature))
    assert not beacon.verify("bls-unchained-g1-rfc9380", MAINNET_PUBLIC_KEY, MAINNET_1337)


def test_the_stand_in_signs_drands_unchained_message_in_the_same_ciphersuite():
    from local.standins.drand import DrandChain

    chain = DrandChain(period=3, genesis_time=1_700_000_000)
    b = chain.beacon(7, early=True)
    assert beacon.message("pedersen-bls-unchained", 7, None) == hashlib.sha256((7).to_bytes(8, "big")).digest()
    assert beacon.verify("pedersen-bls-unchained", chain.public_key, beacon.Beacon(**b))
    assert not beacon.verify("pedersen-bls-unchained", MAINNET_PUBLIC_KEY, beacon.Beacon(**b))   # another key

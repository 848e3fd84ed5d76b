"""drand beacons: the outside randomness of a lottery's draw.

A round's signature is a BLS12-381 signature (G2, the IETF "basic" scheme with the
DST BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_NUL_) by the drand network's group key
over sha256(round as 8 bytes big-endian) ("pedersen-bls-unchained") or over
sha256(previous signature | round) ("pedersen-bls-chained", the default mainnet
chain); its randomness is sha256(signature). Nobody knows a round's signature
before the network makes it, so a round after a lottery's close was unknown at its
opening. The group key is pinned in settings (DRAND_PUBLIC_KEY): the HTTP
endpoint is not trusted, each beacon is verified with py_ecc (the Ethereum
Foundation's BLS12-381 library, pure Python, so it installs on every Lambda
runtime and architecture: `G2Basic` is this exact ciphersuite). A verification
takes about 0.45 s (two pairings in pure Python), once per draw.

drand's quicknet ("bls-unchained-g1-rfc9380") signs on G1 with the keys on G2,
which py_ecc's BLS API does not offer; the default mainnet chain is what we pin.

The client speaks drand's HTTP API: GET <base>/info and GET <base>/public/<round>.
The local stack serves the same API from local/standins/drand.py with a local key.
"""
from __future__ import annotations

import hashlib
import json
import struct
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass

SCHEMES = ("pedersen-bls-chained", "pedersen-bls-unchained")


@dataclass(frozen=True)
class Beacon:
    round: int
    randomness: str
    signature: str
    previous_signature: str | None = None

    def as_dict(self) -> dict:
        return asdict(self)


class BeaconUnavailable(RuntimeError):
    """The round is not out yet, or the endpoint did not answer: try again later."""


class BeaconInvalid(ValueError):
    """The endpoint answered with a beacon the pinned key did not sign: never used."""


def message(scheme: str, round_number: int, previous_signature_hex: str | None) -> bytes:
    if scheme == "pedersen-bls-unchained":
        return hashlib.sha256(struct.pack(">Q", round_number)).digest()
    if scheme == "pedersen-bls-chained":
        return hashlib.sha256(bytes.fromhex(previous_signature_hex or "") + struct.pack(">Q", round_number)).digest()
    raise BeaconInvalid(f"unsupported drand scheme {scheme!r}")


def verify(scheme: str, public_key_hex: str, beacon: Beacon) -> bool:
    """The beacon is the pinned network's signature of its round and its randomness is sha256(signature)."""
    from py_ecc.bls import G2Basic  # deferred: 0.5 s of import, only the draw needs it

    try:
        signature = bytes.fromhex(beacon.signature)
        if hashlib.sha256(signature).hexdigest() != beacon.randomness.lower():
            return False
        if scheme == "pedersen-bls-chained" and not beacon.previous_signature:
            return False
        msg = message(scheme, beacon.round, beacon.previous_signature)
        # Verify checks the key (KeyValidate: on the curve, in the subgroup, not the identity)
        # and the signature's subgroup before the pairing check; malformed bytes give False.
        return bool(G2Basic.Verify(bytes.fromhex(public_key_hex), msg, signature))
    except (ValueError, BeaconInvalid):
        return False


def fetch(base_url: str, round_number: int, *, timeout: float = 3.0) -> Beacon:
    """GET <base>/public/<round>; BeaconUnavailable when it is not there (yet)."""
    url = f"{base_url.rstrip('/')}/public/{int(round_number)}"
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 - https or loopback, from settings
            body = json.loads(response.read(64 * 1024))
    except (urllib.error.URLError, TimeoutError, OSError, ValueError) as exc:
        raise BeaconUnavailable(f"drand round {round_number}: {type(exc).__name__}") from exc
    try:
        beacon = Beacon(round=int(body["round"]), randomness=str(body["randomness"]), signature=str(body["signature"]),
                        previous_signature=body.get("previous_signature"))
    except (KeyError, TypeError, ValueError) as exc:
        raise BeaconInvalid(f"drand round {round_number}: not a beacon") from exc
    if beacon.round != round_number:
        raise BeaconInvalid(f"asked for round {round_number}, got {beacon.round}")
    return beacon

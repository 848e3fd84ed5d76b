"""Stand-in for a drand HTTP relay (https://api.drand.sh), with real BLS signatures.

Serves drand's HTTP API for one "pedersen-bls-unchained" chain signed by a local
BLS12-381 key (py_ecc's G2Basic, the ciphersuite drand's pedersen schemes use and
the one our draw verifies with):

  GET /info             {public_key, period, genesis_time, hash, schemeID, groupHash}
  GET /public/<round>   {round, randomness, signature} once the round's time has come
                        (404 before, like a relay asked for a future round)
  GET /public/latest    the newest round

Each round's signature is G2Basic.Sign(key, sha256(round as 8 bytes big-endian))
and its randomness sha256(signature), exactly as drand's network makes them; the
stand-in cannot make a round early (it refuses to), so, as with the real network, a
lottery's beacon is unknown until its time. Our code trusts the pinned public key
(DRAND_PUBLIC_KEY), never what /info says.
"""
from __future__ import annotations

import hashlib
import json
import struct
import threading
import time
from functools import lru_cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable

from py_ecc.bls import G2Basic

SCHEME = "pedersen-bls-unchained"


class DrandChain:
    def __init__(self, seed: bytes = b"livecommerce-local-drand-standin", *, period: int = 3,
                 genesis_time: int | None = None, clock: Callable[[], float] = time.time) -> None:
        self._key: int = G2Basic.KeyGen(hashlib.sha256(seed).digest())
        self.public_key = bytes(G2Basic.SkToPk(self._key)).hex()
        self.period = period
        self.genesis_time = int(genesis_time if genesis_time is not None else clock() - 60)
        self.clock = clock
        self.chain_hash = hashlib.sha256(f"{self.public_key}|{period}|{self.genesis_time}|{SCHEME}".encode()).hexdigest()

    def info(self) -> dict:
        return {"public_key": self.public_key, "period": self.period, "genesis_time": self.genesis_time,
                "hash": self.chain_hash, "groupHash": self.chain_hash, "schemeID": SCHEME,
                "metadata": {"beaconID": "livecommerce-local"}}

    def latest_round(self) -> int:
        return max(0, int((self.clock() - self.genesis_time) // self.period) + 1)

    def beacon(self, round_number: int, *, early: bool = False) -> dict | None:
        """The round's beacon, or None when its time has not come (`early`: tests sign ahead)."""
        if round_number < 1 or (not early and round_number > self.latest_round()):
            return None
        signature = _sign(self._key, round_number)   # 0.15 s in pure Python: cached per round
        return {"round": round_number, "randomness": hashlib.sha256(signature).hexdigest(),
                "signature": signature.hex()}

    def settings_env(self, url: str) -> dict[str, str]:
        """The environment that points our code at this chain."""
        return {"DRAND_URL": url, "DRAND_PUBLIC_KEY": self.public_key, "DRAND_SCHEME": SCHEME,
                "DRAND_PERIOD": str(self.period), "DRAND_GENESIS_TIME": str(self.genesis_time),
                "DRAND_CHAIN_HASH": self.chain_hash}


@lru_cache(maxsize=4096)
def _sign(key: int, round_number: int) -> bytes:
    return bytes(G2Basic.Sign(key, hashlib.sha256(struct.pack(">Q", round_number)).digest()))


def _handler(chain: DrandChain) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:  # quiet
            pass

        def _send(self, status: int, body: dict) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            parts = [p for p in self.path.split("?")[0].split("/") if p]
            if parts and parts[0] == chain.chain_hash:   # /<chain hash>/... as drand's multi-chain relays
                parts = parts[1:]
            if parts == ["info"]:
                return self._send(200, chain.info())
            if len(parts) == 2 and parts[0] == "public":
                wanted = chain.latest_round() if parts[1] == "latest" else (int(parts[1]) if parts[1].isdigit() else -1)
                beacon = chain.beacon(wanted)
                if beacon is None:
                    return self._send(404, {"error": "round not yet available" if wanted > 0 else "bad round"})
                return self._send(200, beacon)
            return self._send(404, {"error": "not found"})

    return Handler


def serve(chain: DrandChain, host: str = "127.0.0.1", port: int = 0) -> tuple[ThreadingHTTPServer, str]:
    """Start serving in a daemon thread; (server, base URL). server.shutdown() stops it."""
    server = ThreadingHTTPServer((host, port), _handler(chain))
    threading.Thread(target=server.serve_forever, name="drand-standin", daemon=True).start()
    return server, f"http://{host}:{server.server_address[1]}"

"""Engagement settings from the environment (one place).

The drand chain is pinned: its public key is the trust root of every draw. The
default is drand's mainnet "default" chain (pedersen-bls-chained, 30 s rounds,
https://api.drand.sh/info); the local stack points these at its stand-in
(local/standins/drand.py) with the stand-in's own key.
"""
from __future__ import annotations

import os
from dataclasses import dataclass

MAINNET_PUBLIC_KEY = ("868f005eb8e6e4ca0a47c8a77ceaa5309a47978a7c71bc5cce96366b5d7a569937c529eeda66c7293784a940"
                      "2801af31")
MAINNET_CHAIN_HASH = "8990e7a9aaed2ffed73dbd7092123d6f289930540d7651336225dc172e51b2ce"


MAINNET_URL = "https://api.drand.sh"
MAINNET_SCHEME = "pedersen-bls-chained"
MAINNET_PERIOD = 30
MAINNET_GENESIS_TIME = 1595431050
# The functions that fetch and verify beacons: CDK sets drand_mainnet_env() on them, the local stack
# points the same variables at its stand-in (local/standins/drand.py).
DRAND_FUNCTIONS = ("engagement", "engagement_clock")


def drand_mainnet_env() -> dict[str, str]:
    return {"DRAND_URL": MAINNET_URL, "DRAND_PUBLIC_KEY": MAINNET_PUBLIC_KEY, "DRAND_SCHEME": MAINNET_SCHEME,
            "DRAND_PERIOD": str(MAINNET_PERIOD), "DRAND_GENESIS_TIME": str(MAINNET_GENESIS_TIME),
            "DRAND_CHAIN_HASH": MAINNET_CHAIN_HASH}


@dataclass(frozen=True)
class DrandChain:
    url: str
    public_key: str
    scheme: str
    period: int
    genesis_time: int
    chain_hash: str


def drand_chain() -> DrandChain:
    env = os.environ
    return DrandChain(url=env.get("DRAND_URL", MAINNET_URL),
                      public_key=env.get("DRAND_PUBLIC_KEY", MAINNET_PUBLIC_KEY),
                      scheme=env.get("DRAND_SCHEME", MAINNET_SCHEME),
                      period=int(env.get("DRAND_PERIOD", str(MAINNET_PERIOD))),
                      genesis_time=int(env.get("DRAND_GENESIS_TIME", str(MAINNET_GENESIS_TIME))),
                      chain_hash=env.get("DRAND_CHAIN_HASH", MAINNET_CHAIN_HASH))

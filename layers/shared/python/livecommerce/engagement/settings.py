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
    return DrandChain(url=env.get("DRAND_URL", "https://api.drand.sh"),
                      public_key=env.get("DRAND_PUBLIC_KEY", MAINNET_PUBLIC_KEY),
                      scheme=env.get("DRAND_SCHEME", "pedersen-bls-chained"),
                      period=int(env.get("DRAND_PERIOD", "30")),
                      genesis_time=int(env.get("DRAND_GENESIS_TIME", "1595431050")),
                      chain_hash=env.get("DRAND_CHAIN_HASH", MAINNET_CHAIN_HASH))

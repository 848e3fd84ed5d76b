"""Marketing's settings, from environment variables (read when asked: cheap, and a test may set them)."""
from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass(frozen=True)
class MarketingSettings:
    points_per_yuan: int     # points a paid order earns per whole yuan paid


def get_marketing_settings() -> MarketingSettings:
    env = os.environ
    return MarketingSettings(points_per_yuan=int(env.get("POINTS_PER_YUAN", "1")))

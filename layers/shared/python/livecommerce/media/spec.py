"""What the media context declares. It owns no table, route or function of its
own: the rooms function provisions channels and signs playback tokens through
it, and IVS's own events reach the rooms context (rooms.spec)."""
from __future__ import annotations

from livecommerce.shared.spec import ContextSpec

SPEC = ContextSpec(
    name="media",
    description="IVS channels, stream keys, playback tokens",
)

"""HMAC keys kept in Secrets Manager, with rotation: the current version signs, the current and
the previous (AWSPREVIOUS) verify, so a rotation does not break what was signed just before it.
Fetched once per container and kept for KEY_CACHE_SECONDS (used by tokens and paging)."""
from __future__ import annotations

from typing import Callable

from livecommerce.shared import aws
from livecommerce.shared.ttl_cache import TtlCache

KEY_CACHE_SECONDS = 300


class RotatingSecretKeys:
    def __init__(self, secret_id: Callable[[], str]) -> None:
        """`secret_id`: read at each fetch (settings can change between tests)."""
        self._secret_id = secret_id
        self._cache: TtlCache[None, list[bytes]] = TtlCache(KEY_CACHE_SECONDS)

    def keys(self) -> list[bytes]:
        """The signing key first, then the previous version when it differs."""
        return self._cache.get(None, self._load)

    def clear(self) -> None:
        self._cache.clear()

    def _load(self) -> list[bytes]:
        sm = aws.client("secretsmanager")
        secret_id = self._secret_id()
        current = sm.get_secret_value(SecretId=secret_id)["SecretString"].encode()
        keys = [current]
        try:
            previous = sm.get_secret_value(SecretId=secret_id, VersionStage="AWSPREVIOUS")["SecretString"].encode()
            if previous != current:
                keys.append(previous)
        except sm.exceptions.ResourceNotFoundException:
            pass
        return keys

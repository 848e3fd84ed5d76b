"""Login tokens: HS256 JWTs signed with a key kept in Secrets Manager.

The key is fetched once per container and refreshed every few minutes so a
rotated secret is picked up without a redeploy; tokens signed with the
previous version still verify until they expire (AWSPREVIOUS is tried too).
"""
from __future__ import annotations

import time
import uuid
from dataclasses import dataclass

from livecommerce.shared.secret_keys import RotatingSecretKeys
from livecommerce.shared.settings import get_settings

ALGORITHM = "HS256"
AUDIENCE = "livecommerce-api"
CLOCK_SKEW_SECONDS = 30


class TokenInvalid(Exception):
    """The token is malformed, expired, tampered with or not ours."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class TokenClaims:
    user_id: str
    roles: tuple[str, ...]
    expires_at: int
    token_id: str


_KEYS = RotatingSecretKeys(lambda: get_settings().token_secret_id)


def _keys() -> list[bytes]:
    return _KEYS.keys()


def clear_key_cache() -> None:
    _KEYS.clear()


def issue(user_id: str, roles: list[str] | tuple[str, ...], *, now: float | None = None) -> tuple[str, int]:
    import jwt  # deferred: PyJWT/cryptography (cold start); only logins pay it

    settings = get_settings()
    issued = int(now if now is not None else time.time())
    expires = issued + settings.token_ttl_seconds
    claims = {
        "sub": user_id,
        "roles": sorted(set(roles)),
        "iat": issued,
        "nbf": issued,
        "exp": expires,
        "iss": settings.token_issuer,
        "aud": AUDIENCE,
        "jti": uuid.uuid4().hex,
    }
    return jwt.encode(claims, _keys()[0], algorithm=ALGORITHM), expires


def verify(token: str) -> TokenClaims:
    import jwt  # deferred: PyJWT/cryptography (cold start); a public route without a token never pays it

    if not token or len(token) > 4096:
        raise TokenInvalid("malformed")
    settings = get_settings()
    options = {"require": ["sub", "exp", "iat", "iss", "aud"]}
    last_error = "invalid"
    for key in _keys():
        try:
            claims = jwt.decode(token, key, algorithms=[ALGORITHM], audience=AUDIENCE,
                                issuer=settings.token_issuer, leeway=CLOCK_SKEW_SECONDS, options=options)
        except jwt.ExpiredSignatureError:
            raise TokenInvalid("expired") from None
        except jwt.InvalidSignatureError:
            last_error = "bad_signature"
            continue
        except jwt.PyJWTError:
            raise TokenInvalid("malformed") from None
        roles = claims.get("roles") or []
        if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
            raise TokenInvalid("malformed")
        return TokenClaims(user_id=str(claims["sub"]), roles=tuple(roles),
                           expires_at=int(claims["exp"]), token_id=str(claims.get("jti", "")))
    raise TokenInvalid(last_error)

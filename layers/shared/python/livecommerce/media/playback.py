"""Private playback for IVS: ES384 playback tokens and the URLs that carry them.

Rooms use private channels (``authorized=True``), so IVS plays the HLS
multivariant playlist only when the request carries ``?token=<JWT>`` signed
with the private half of a playback key pair whose public half was imported
into IVS (ImportPlaybackKeyPair). Token shape (IVS user guide, "Generate and
Sign IVS Playback Tokens"):

- header ``{"alg": "ES384", "typ": "JWT"}`` (ECDSA P-384 with SHA-384);
- ``aws:channel-arn``: the channel the token opens;
- ``aws:access-control-allow-origin``: allowed origins, "*" by default (it
  only restricts browsers; mini-program players send no Origin);
- ``aws:viewer-id``: our user id (at most 40 characters, no personal data);
  it makes a viewer's session revocable later;
- ``exp``: epoch seconds. With ``aws:viewer-id`` IVS accepts ``exp`` at most
  10 minutes ahead, so tokens live 600 s at most. The token is checked when
  playback starts, not during it; a player that reloads asks us for a new one.
- ``iat``: when we signed it (IVS ignores it; it helps support).

The key pair lives in Secrets Manager (secret id from ``PLAYBACK_KEY_SECRET_ID``)
as JSON ``{"private_key_pem", "public_key_pem", "key_pair_arn"}``; it is read
once per container and refreshed every 5 minutes so a rotated key is picked
up without a redeploy.

PyJWT and cryptography are imported inside the functions (cold starts).
"""
from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from livecommerce.shared import aws
from livecommerce.shared.ttl_cache import TtlCache

ALGORITHM = "ES384"
MAX_TTL_SECONDS = 600          # IVS: exp at most 10 minutes ahead when aws:viewer-id is used
DEFAULT_TTL_SECONDS = 600
VIEWER_ID_MAX_LENGTH = 40      # IVS limit on aws:viewer-id
CLOCK_SKEW_SECONDS = 5
KEY_CACHE_SECONDS = 300
MAX_TOKEN_LENGTH = 4096

CLAIM_CHANNEL_ARN = "aws:channel-arn"
CLAIM_ALLOW_ORIGIN = "aws:access-control-allow-origin"
CLAIM_VIEWER_ID = "aws:viewer-id"

SECRET_ID_ENV = "PLAYBACK_KEY_SECRET_ID"
DEFAULT_SECRET_ID = "livecommerce-local/playback-key"
PLAYBACK_DOMAIN_ENV = "PLAYBACK_DOMAIN"
ALLOW_ORIGIN_ENV = "PLAYBACK_ALLOW_ORIGIN"


class PlaybackTokenInvalid(Exception):
    """The token is malformed, tampered with, expired, too long-lived, for
    another channel, or not ES384. `reason` is a stable short code."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class PlaybackKeyPair:
    private_key_pem: str = field(repr=False)
    public_key_pem: str
    key_pair_arn: str | None = None


@dataclass(frozen=True)
class PlaybackGrant:
    """What `GET /v1/rooms/{room_id}/playback` hands a viewer."""

    url: str          # playback URL (own domain when configured) with ?token=
    token: str
    expires_at: int   # epoch seconds


# --- keys -----------------------------------------------------------------

def generate_key_pair() -> tuple[str, str]:
    """A new P-384 key pair as (private PKCS#8 PEM, public SubjectPublicKeyInfo PEM).

    The public PEM is what ImportPlaybackKeyPair takes; the local stack uses
    the pair directly."""
    from cryptography.hazmat.primitives import serialization  # deferred: cryptography (cold start)
    from cryptography.hazmat.primitives.asymmetric import ec  # deferred: cryptography (cold start)

    private = ec.generate_private_key(ec.SECP384R1())
    private_pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                        serialization.NoEncryption()).decode()
    public_pem = private.public_key().public_bytes(serialization.Encoding.PEM,
                                                   serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    return private_pem, public_pem


def _pem_bytes(pem: str | bytes) -> bytes:
    return pem.encode() if isinstance(pem, str) else bytes(pem)


@lru_cache(maxsize=8)
def _private_key(pem: bytes) -> Any:
    from cryptography.hazmat.primitives import serialization  # deferred: cryptography (cold start)
    from cryptography.hazmat.primitives.asymmetric import ec  # deferred: cryptography (cold start)

    key = serialization.load_pem_private_key(pem, password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey) or not isinstance(key.curve, ec.SECP384R1):
        raise ValueError("the playback private key must be an EC P-384 (secp384r1) key for ES384")
    return key


@lru_cache(maxsize=8)
def _public_key(pem: bytes) -> Any:
    from cryptography.hazmat.primitives import serialization  # deferred: cryptography (cold start)
    from cryptography.hazmat.primitives.asymmetric import ec  # deferred: cryptography (cold start)

    key = serialization.load_pem_public_key(pem)
    if not isinstance(key, ec.EllipticCurvePublicKey) or not isinstance(key.curve, ec.SECP384R1):
        raise ValueError("the playback public key must be an EC P-384 (secp384r1) key for ES384")
    return key


def _fetch_key_pair() -> PlaybackKeyPair:
    secret_id = os.environ.get(SECRET_ID_ENV) or DEFAULT_SECRET_ID
    raw = aws.client("secretsmanager").get_secret_value(SecretId=secret_id)["SecretString"]
    try:
        data = json.loads(raw)
        private_pem = data["private_key_pem"]
    except (ValueError, TypeError, KeyError):
        raise RuntimeError(f"secret {secret_id} must be JSON with private_key_pem, public_key_pem, "
                           "key_pair_arn") from None
    pair = PlaybackKeyPair(private_key_pem=private_pem, public_key_pem=data.get("public_key_pem") or "",
                           key_pair_arn=data.get("key_pair_arn") or None)
    _private_key(_pem_bytes(pair.private_key_pem))  # fail here, loudly, on a wrong key type
    return pair


_cache: TtlCache[None, PlaybackKeyPair] = TtlCache(KEY_CACHE_SECONDS)


def load_playback_key_pair() -> PlaybackKeyPair:
    """The playback key pair from Secrets Manager, cached for 5 minutes."""
    return _cache.get(None, _fetch_key_pair)


def load_playback_private_key() -> str:
    """The playback private key PEM from Secrets Manager, cached for 5 minutes."""
    return load_playback_key_pair().private_key_pem


def clear_key_cache() -> None:
    """Tests and key rotation drills."""
    _cache.clear()


# --- tokens ---------------------------------------------------------------

def sign_playback_token(channel_arn: str, viewer_id: str, *, private_key_pem: str | bytes,
                        ttl_seconds: int = DEFAULT_TTL_SECONDS, allow_origin: str = "*",
                        now: float | None = None) -> tuple[str, int]:
    """An ES384 playback token for one viewer on one channel; returns (token, exp)."""
    import jwt  # deferred: keeps entry modules light

    if not channel_arn:
        raise ValueError("channel_arn is required")
    if not viewer_id or len(viewer_id) > VIEWER_ID_MAX_LENGTH:
        raise ValueError(f"viewer_id must be 1-{VIEWER_ID_MAX_LENGTH} characters")
    if isinstance(ttl_seconds, bool) or not isinstance(ttl_seconds, int) \
            or not 0 < ttl_seconds <= MAX_TTL_SECONDS:
        raise ValueError(f"ttl_seconds must be an integer in 1..{MAX_TTL_SECONDS}")
    if not allow_origin:
        raise ValueError("allow_origin must be an origin list or '*'")
    issued = int(now if now is not None else time.time())
    expires = issued + ttl_seconds
    claims = {
        CLAIM_CHANNEL_ARN: channel_arn,
        CLAIM_ALLOW_ORIGIN: allow_origin,
        CLAIM_VIEWER_ID: viewer_id,
        "iat": issued,
        "exp": expires,
    }
    key = _private_key(_pem_bytes(private_key_pem))
    token = jwt.encode(claims, key, algorithm=ALGORITHM, headers={"typ": "JWT"})
    return token, expires


def _signed_claims(token: str, public_key_pem: str | bytes, required_claim: str) -> dict[str, Any]:
    """The claims of an ES384 token whose signature checks and which carries ``exp`` and
    ``required_claim``; expiry and the claims' meaning are left to the caller."""
    import jwt  # deferred: PyJWT/cryptography (cold start)

    if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_LENGTH:
        raise PlaybackTokenInvalid("malformed")
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        raise PlaybackTokenInvalid("malformed") from None
    if header.get("alg") != ALGORITHM:
        raise PlaybackTokenInvalid("wrong_algorithm")
    options = {"require": ["exp", required_claim], "verify_exp": False, "verify_iat": False,
               "verify_nbf": False, "verify_aud": False, "verify_iss": False}
    try:
        return jwt.decode(token, _public_key(_pem_bytes(public_key_pem)), algorithms=[ALGORITHM],
                          options=options)
    except jwt.InvalidSignatureError:
        raise PlaybackTokenInvalid("bad_signature") from None
    except jwt.MissingRequiredClaimError:
        raise PlaybackTokenInvalid("missing_claim") from None
    except jwt.PyJWTError:
        raise PlaybackTokenInvalid("malformed") from None


def verify_playback_token(token: str, public_key_pem: str | bytes, *, channel_arn: str,
                          now: float | None = None) -> dict[str, Any]:
    """Check a token the way IVS does; returns its claims or raises PlaybackTokenInvalid.

    Used by the local playback server (standing in for IVS) and by tests:
    ES384 only, signature, ``exp`` present and not passed, ``exp`` at most
    10 minutes ahead when ``aws:viewer-id`` is present, and the channel ARN.
    """
    claims = _signed_claims(token, public_key_pem, CLAIM_CHANNEL_ARN)
    current = now if now is not None else time.time()
    exp = claims.get("exp")
    if isinstance(exp, bool) or not isinstance(exp, int):
        raise PlaybackTokenInvalid("malformed")
    if exp <= current - CLOCK_SKEW_SECONDS:
        raise PlaybackTokenInvalid("expired")
    viewer_id = claims.get(CLAIM_VIEWER_ID)
    if viewer_id is not None:
        if not isinstance(viewer_id, str) or not 0 < len(viewer_id) <= VIEWER_ID_MAX_LENGTH:
            raise PlaybackTokenInvalid("malformed")
        if exp > current + MAX_TTL_SECONDS + CLOCK_SKEW_SECONDS:
            raise PlaybackTokenInvalid("lifetime_too_long")
    if claims.get(CLAIM_CHANNEL_ARN) != channel_arn:
        raise PlaybackTokenInvalid("wrong_channel")
    return claims


# --- URLs -----------------------------------------------------------------

def playback_url_with_token(playback_url: str, token: str) -> str:
    """The playback URL with ``token=<JWT>`` in its query (replacing any old token)."""
    parts = urlsplit(playback_url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "token"]
    query.append(("token", token))
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query, safe="-_.~"), parts.fragment))


def custom_domain_playback_url(playback_url: str, domain: str | None) -> str:
    """Serve playback from our own (filed) domain instead of the IVS host.

    IVS playback URLs look like
    ``https://<prefix>.<region>.playback.live-video.net/api/video/v1/<region>.<account>.channel.<id>.m3u8``.
    Mini-programs can only play from domains filed with the platform, so when
    ``PLAYBACK_DOMAIN`` is set we swap the host for it and keep the path (and
    query). Assumptions, checked by whoever builds the distribution:

    - the domain is a CloudFront distribution whose origin is the IVS playback
      host; that host prefix belongs to the account and region, so one origin
      serves every channel (a channel on another host needs another origin);
    - CloudFront forwards the ``token`` query string to the origin and does not
      share a cached multivariant playlist across tokens;
    - the multivariant playlist lists its variant playlists by absolute URL on
      IVS hosts; if the player must stay on the filed domain for those too,
      the distribution has to rewrite them (or those hosts must be filed as
      well). Verify against a live channel before launch.

    With no domain (local stack, or not configured) the URL is returned as is.
    """
    if not domain:
        return playback_url
    domain = domain.strip().rstrip("/")
    if "://" in domain:
        target = urlsplit(domain)
        scheme, netloc, prefix = target.scheme or "https", target.netloc, target.path.rstrip("/")
    else:
        scheme, netloc, prefix = "https", domain, ""
    if not netloc:
        raise ValueError(f"not a domain: {domain!r}")
    parts = urlsplit(playback_url)
    return urlunsplit((scheme, netloc, prefix + parts.path, parts.query, parts.fragment))


def grant_playback(channel_arn: str, playback_url: str, viewer_id: str, *,
                   ttl_seconds: int = DEFAULT_TTL_SECONDS, now: float | None = None) -> PlaybackGrant:
    """Sign a token with the configured key and build the URL a viewer plays.

    Uses ``PLAYBACK_DOMAIN`` (own domain) and ``PLAYBACK_ALLOW_ORIGIN``
    (default "*") from the environment."""
    token, expires = sign_playback_token(channel_arn, viewer_id, private_key_pem=load_playback_private_key(),
                                         ttl_seconds=ttl_seconds,
                                         allow_origin=os.environ.get(ALLOW_ORIGIN_ENV) or "*", now=now)
    url = custom_domain_playback_url(playback_url, os.environ.get(PLAYBACK_DOMAIN_ENV))
    return PlaybackGrant(url=playback_url_with_token(url, token), token=token, expires_at=expires)


# --- replay tokens (the replay distribution; docs/replays.md) ---------------
#
# The same rule as live, for recorded replays: an ES384 JWT signed with the playback key, carried
# in the URL's path (``<REPLAY_BASE_URL>/t/<token>/<key>``) so the player's relative segment URIs
# inherit it. Bound to one recording's prefix (``lc:replay-prefix``: every key under it, the
# recording's playlists, segments, thumbnails and clips) and an expiry. Checked by the local replay
# CDN and, on AWS, by the replay distribution's viewer-request Lambda@Edge
# (cdk/assets/replay_edge/index.mjs), which refuses what this function refuses.

CLAIM_REPLAY_PREFIX = "lc:replay-prefix"
REPLAY_MAX_TTL_SECONDS = 48 * 3600     # no replay token is good for longer (a leaked one dies)
REPLAY_KEY_ROOT = "ivs/v1/"


def sign_replay_token(prefix: str, viewer_id: str, *, private_key_pem: str | bytes, ttl_seconds: int,
                      now: float | None = None) -> tuple[str, int]:
    """An ES384 replay token for the recording under `prefix`; returns (token, exp)."""
    import jwt  # deferred: PyJWT/cryptography (cold start)

    prefix = prefix.strip("/")
    if not prefix.startswith(REPLAY_KEY_ROOT) or ".." in prefix.split("/"):
        raise ValueError(f"a replay token covers a recording under {REPLAY_KEY_ROOT}, not {prefix!r}")
    if not viewer_id or len(viewer_id) > VIEWER_ID_MAX_LENGTH:
        raise ValueError(f"viewer_id must be 1-{VIEWER_ID_MAX_LENGTH} characters")
    if isinstance(ttl_seconds, bool) or not isinstance(ttl_seconds, int) \
            or not 0 < ttl_seconds <= REPLAY_MAX_TTL_SECONDS:
        raise ValueError(f"ttl_seconds must be an integer in 1..{REPLAY_MAX_TTL_SECONDS}")
    issued = int(now if now is not None else time.time())
    expires = issued + ttl_seconds
    claims = {CLAIM_REPLAY_PREFIX: prefix, "sub": viewer_id, "iat": issued, "exp": expires}
    token = jwt.encode(claims, _private_key(_pem_bytes(private_key_pem)), algorithm=ALGORITHM,
                       headers={"typ": "JWT"})
    return token, expires


def verify_replay_token(token: str, public_key_pem: str | bytes, *, key: str,
                        now: float | None = None) -> dict[str, Any]:
    """Check a replay token for one object key; returns its claims or raises PlaybackTokenInvalid
    (malformed, wrong_algorithm, bad_signature, missing_claim, expired, lifetime_too_long,
    wrong_prefix). The key must lie under the token's prefix (``<prefix>/...``)."""
    claims = _signed_claims(token, public_key_pem, CLAIM_REPLAY_PREFIX)
    current = now if now is not None else time.time()
    exp, prefix = claims.get("exp"), claims.get(CLAIM_REPLAY_PREFIX)
    if isinstance(exp, bool) or not isinstance(exp, int) or not isinstance(prefix, str):
        raise PlaybackTokenInvalid("malformed")
    if exp <= current - CLOCK_SKEW_SECONDS:
        raise PlaybackTokenInvalid("expired")
    if exp > current + REPLAY_MAX_TTL_SECONDS + CLOCK_SKEW_SECONDS:
        raise PlaybackTokenInvalid("lifetime_too_long")
    if not prefix.startswith(REPLAY_KEY_ROOT) or not key_under(key, prefix):
        raise PlaybackTokenInvalid("wrong_prefix")
    return claims


def key_under(key: str, prefix: str) -> bool:
    """`key` names an object inside the recording `prefix` (no dot segments, no empty ones)."""
    parts = key.split("/")
    if any(part in ("", ".", "..") for part in parts) or "%" in key or "\\" in key:
        return False
    return key.startswith(prefix.rstrip("/") + "/")


def tokenised_path(token: str, key: str) -> str:
    """``t/<token>/<key>``: the path a replay URL carries (relative URIs inherit the token)."""
    return f"t/{token}/{key.lstrip('/')}"


def split_tokenised_path(path: str) -> tuple[str, str] | None:
    """``/t/<token>/<key>`` -> (token, key); anything else -> None."""
    if not path.startswith("/t/"):
        return None
    token, sep, key = path[3:].partition("/")
    if not sep or not token or not key:
        return None
    return token, key

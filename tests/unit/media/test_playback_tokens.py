"""IVS playback tokens: ES384, the aws:* claims, at most 10 minutes, and every
kind of bad token refused the way IVS refuses it."""
from __future__ import annotations

import base64
import json
import subprocess
import sys
from functools import lru_cache
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from livecommerce.media import playback
from livecommerce.media.playback import PlaybackTokenInvalid, sign_playback_token, verify_playback_token

CHANNEL = "arn:aws:ivs:ap-northeast-1:123456789012:channel/xT6bLk3Gq9Zp"
OTHER_CHANNEL = "arn:aws:ivs:ap-northeast-1:123456789012:channel/Zz9Yy8Xx7Ww6"
VIEWER = "01JVIEWEREXAMPLE0000000000"
NOW = 1_800_000_000
IVS_URL = ("https://a1b2c3d4e5f6.ap-northeast-1.playback.live-video.net/api/video/v1/"
           "ap-northeast-1.123456789012.channel.xT6bLk3Gq9Zp.m3u8")


@lru_cache(maxsize=None)
def keys(which: str = "ours") -> tuple[str, str]:
    return playback.generate_key_pair()


def sign(**overrides) -> tuple[str, int]:
    kwargs = {"private_key_pem": keys()[0], "now": NOW}
    kwargs.update(overrides)
    channel = kwargs.pop("channel_arn", CHANNEL)
    viewer = kwargs.pop("viewer_id", VIEWER)
    return sign_playback_token(channel, viewer, **kwargs)


def verify(token: str, *, public: str | None = None, channel: str = CHANNEL, now: float = NOW) -> dict:
    return verify_playback_token(token, public or keys()[1], channel_arn=channel, now=now)


def reason(token: str, **kwargs) -> str:
    with pytest.raises(PlaybackTokenInvalid) as info:
        verify(token, **kwargs)
    return info.value.reason


def b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


# --- the happy path ---------------------------------------------------------

def test_token_verifies_and_carries_the_ivs_claims():
    token, expires = sign()
    claims = verify(token)
    assert claims == {
        "aws:channel-arn": CHANNEL,
        "aws:access-control-allow-origin": "*",
        "aws:viewer-id": VIEWER,
        "iat": NOW,
        "exp": NOW + 600,
    }
    assert expires == NOW + 600
    assert jwt.get_unverified_header(token) == {"alg": "ES384", "typ": "JWT"}
    # Independent check with PyJWT alone, as IVS would do it with the imported public key.
    decoded = jwt.decode(token, keys()[1], algorithms=["ES384"], options={"verify_exp": False, "verify_iat": False})
    assert decoded["aws:channel-arn"] == CHANNEL


def test_default_ttl_is_the_ivs_maximum_of_ten_minutes():
    token, expires = sign_playback_token(CHANNEL, VIEWER, private_key_pem=keys()[0])
    claims = verify(token, now=claims_iat(token))
    assert claims["exp"] - claims["iat"] == 600 == playback.MAX_TTL_SECONDS
    assert expires == claims["exp"]


def claims_iat(token: str) -> int:
    return jwt.decode(token, options={"verify_signature": False})["iat"]


@settings(max_examples=40, deadline=None)
@given(viewer=st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=40),
       ttl=st.integers(min_value=1, max_value=600),
       origin=st.sampled_from(["*", "https://servicewechat.com", "https://a.example.cn,https://*.example.cn"]),
       now=st.integers(min_value=1_600_000_000, max_value=2_200_000_000))
def test_any_viewer_ttl_and_origin_round_trip(viewer, ttl, origin, now):
    token, expires = sign_playback_token(CHANNEL, viewer, private_key_pem=keys()[0], ttl_seconds=ttl,
                                         allow_origin=origin, now=now)
    claims = verify(token, now=now)
    assert claims["aws:viewer-id"] == viewer
    assert claims["aws:access-control-allow-origin"] == origin
    assert claims["exp"] == expires == now + ttl
    assert 0 < claims["exp"] - claims["iat"] <= 600
    assert reason(token, now=now + ttl + playback.CLOCK_SKEW_SECONDS) == "expired"


@pytest.mark.parametrize("ttl", [0, -1, 601, 3600, 600.0, True])
def test_ttl_outside_ten_minutes_is_refused(ttl):
    with pytest.raises(ValueError):
        sign(ttl_seconds=ttl)


@pytest.mark.parametrize("viewer", ["", "x" * 41])
def test_viewer_id_must_fit_the_ivs_limit(viewer):
    with pytest.raises(ValueError):
        sign(viewer_id=viewer)


def test_only_p384_keys_sign():
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    p256 = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    with pytest.raises(ValueError, match="P-384"):
        sign(private_key_pem=p256)


def test_generated_key_pair_is_p384_pem():
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    private_pem, public_pem = playback.generate_key_pair()
    assert private_pem.startswith("-----BEGIN PRIVATE KEY-----")
    assert public_pem.startswith("-----BEGIN PUBLIC KEY-----")
    public = serialization.load_pem_public_key(public_pem.encode())
    assert isinstance(public.curve, ec.SECP384R1)
    assert playback.generate_key_pair() != (private_pem, public_pem)


# --- refusals ---------------------------------------------------------------

def test_expired_token_fails():
    token, expires = sign(ttl_seconds=60)
    assert verify(token, now=expires - 1)
    assert reason(token, now=expires + playback.CLOCK_SKEW_SECONDS) == "expired"
    assert reason(token, now=NOW + 86_400) == "expired"


def test_token_signed_by_another_key_fails():
    token, _ = sign(private_key_pem=keys("theirs")[0])
    assert reason(token) == "bad_signature"
    assert reason(sign()[0], public=keys("theirs")[1]) == "bad_signature"


def test_token_for_another_channel_fails():
    token, _ = sign(channel_arn=OTHER_CHANNEL)
    assert reason(token) == "wrong_channel"


def test_tampered_claims_fail():
    token, _ = sign()
    header, _, signature = token.split(".")
    forged = dict(verify(token), **{"aws:channel-arn": OTHER_CHANNEL})
    assert reason(f"{header}.{b64(forged)}.{signature}", channel=OTHER_CHANNEL) == "bad_signature"
    longer = dict(verify(token), exp=NOW + 599)
    assert reason(f"{header}.{b64(longer)}.{signature}") == "bad_signature"


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_any_single_character_change_is_caught(data):
    token, _ = sign()
    index = data.draw(st.integers(min_value=0, max_value=len(token) - 2), label="index")
    if token[index] == "." or token[index + 1] == ".":
        return  # a segment's last character may carry unused base64 bits; skip it
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    replacement = data.draw(st.sampled_from([c for c in alphabet if c != token[index]]), label="char")
    tampered = token[:index] + replacement + token[index + 1:]
    with pytest.raises(PlaybackTokenInvalid) as info:
        verify(tampered)
    assert info.value.reason in {"bad_signature", "malformed", "wrong_algorithm", "missing_claim"}


def test_other_algorithms_fail():
    claims = verify(sign()[0])
    hs256 = jwt.encode(claims, "a-shared-secret-long-enough-for-hs256-0123456789", algorithm="HS256")
    assert reason(hs256) == "wrong_algorithm"
    unsigned = f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64(claims)}."
    assert reason(unsigned) == "wrong_algorithm"
    from cryptography.hazmat.primitives.asymmetric import ec

    es256 = jwt.encode(claims, ec.generate_private_key(ec.SECP256R1()), algorithm="ES256")
    assert reason(es256) == "wrong_algorithm"
    # A header that lies about its algorithm does not help either.
    header, payload, signature = sign()[0].split(".")
    assert reason(f"{b64({'alg': 'ES256', 'typ': 'JWT'})}.{payload}.{signature}") == "wrong_algorithm"


def test_token_living_longer_than_ivs_allows_fails():
    from livecommerce.media.playback import _private_key

    claims = {"aws:channel-arn": CHANNEL, "aws:viewer-id": VIEWER, "iat": NOW, "exp": NOW + 3600}
    long_lived = jwt.encode(claims, _private_key(keys()[0].encode()), algorithm="ES384")
    assert reason(long_lived) == "lifetime_too_long"
    # Without a viewer id IVS has no 10-minute rule.
    del claims["aws:viewer-id"]
    anonymous = jwt.encode(claims, _private_key(keys()[0].encode()), algorithm="ES384")
    assert verify(anonymous)["exp"] == NOW + 3600


def test_missing_claims_and_garbage_fail():
    from livecommerce.media.playback import _private_key

    key = _private_key(keys()[0].encode())
    assert reason(jwt.encode({"exp": NOW + 60}, key, algorithm="ES384")) == "missing_claim"
    assert reason(jwt.encode({"aws:channel-arn": CHANNEL}, key, algorithm="ES384")) == "missing_claim"
    assert reason(jwt.encode({"aws:channel-arn": CHANNEL, "exp": "soon"}, key, algorithm="ES384")) == "malformed"
    for junk in ("", "a.b", "a.b.c", "x" * 5000, "...."):
        assert reason(junk) == "malformed"


# --- URLs -------------------------------------------------------------------

def test_token_goes_in_the_query_as_ivs_expects():
    token, _ = sign()
    url = playback.playback_url_with_token(IVS_URL, token)
    assert url == f"{IVS_URL}?token={token}"
    again = playback.playback_url_with_token(url + "&player=wx", "newtoken")
    assert parse_qs(urlsplit(again).query) == {"token": ["newtoken"], "player": ["wx"]}


@pytest.mark.parametrize(("domain", "expected"), [
    (None, IVS_URL),
    ("", IVS_URL),
    ("live.example.cn", "https://live.example.cn/api/video/v1/ap-northeast-1.123456789012.channel.xT6bLk3Gq9Zp.m3u8"),
    ("https://live.example.cn/", "https://live.example.cn/api/video/v1/ap-northeast-1.123456789012.channel."
                                 "xT6bLk3Gq9Zp.m3u8"),
    ("https://cdn.example.cn/ivs", "https://cdn.example.cn/ivs/api/video/v1/ap-northeast-1.123456789012.channel."
                                   "xT6bLk3Gq9Zp.m3u8"),
])
def test_custom_domain_keeps_the_path(domain, expected):
    assert playback.custom_domain_playback_url(IVS_URL, domain) == expected


@given(path=st.lists(st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789.-_", min_size=1, max_size=12),
                     min_size=1, max_size=6))
def test_custom_domain_changes_only_the_host(path):
    url = "https://abc.ap-northeast-1.playback.live-video.net/" + "/".join(path)
    rewritten = urlsplit(playback.custom_domain_playback_url(url, "live.example.cn"))
    assert rewritten.netloc == "live.example.cn" and rewritten.scheme == "https"
    assert rewritten.path == urlsplit(url).path


# --- cold start -------------------------------------------------------------

def test_importing_the_media_package_loads_no_heavy_libraries():
    root = Path(__file__).resolve().parents[3]
    code = ("import sys; from livecommerce.media import channels, errors, playback; "
            "print(sorted(m for m in ('boto3', 'botocore', 'jwt', 'cryptography') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={"PYTHONPATH": f"{root / 'layers' / 'shared' / 'python'}:{root}", "PATH": ""})
    assert out.stdout.strip() == "[]"

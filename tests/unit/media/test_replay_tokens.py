"""Replay tokens (media.playback.sign_replay_token / verify_replay_token) and their lifetimes
(replay_rules.replay_token_ttl): the rule the local replay CDN and the replay distribution's
Lambda@Edge enforce (docs/replays.md, "Private replays")."""
from __future__ import annotations

import base64
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from livecommerce.media import playback, replay_rules

PRIVATE, PUBLIC = playback.generate_key_pair()
OTHER_PRIVATE, _ = playback.generate_key_pair()
PREFIX = "ivs/v1/123456789012/abcd1234/2026/3/14/11/0/recABC"
NOW = 1_800_000_000


def _sign(prefix=PREFIX, ttl=600, key=PRIVATE, now=NOW):
    return playback.sign_replay_token(prefix, "host-1", private_key_pem=key, ttl_seconds=ttl, now=now)[0]


def _reason(token, key, now=NOW):
    with pytest.raises(playback.PlaybackTokenInvalid) as caught:
        playback.verify_replay_token(token, PUBLIC, key=key, now=now)
    return caught.value.reason


def test_a_token_opens_every_object_of_its_recording_and_nothing_else():
    token = _sign()
    for key in ("media/hls/master.m3u8", "media/hls/720p30/12.ts", "media/thumbnails/720p30/thumb3.jpg",
                "clips/p-1/240p30/playlist.m3u8"):
        claims = playback.verify_replay_token(token, PUBLIC, key=f"{PREFIX}/{key}", now=NOW + 599)
        assert claims["lc:replay-prefix"] == PREFIX and claims["sub"] == "host-1"
    assert _reason(token, f"{PREFIX}X/media/hls/master.m3u8") == "wrong_prefix"        # a sibling recording
    assert _reason(token, "ivs/v1/123456789012/other/2026/3/14/11/0/rec/x.ts") == "wrong_prefix"
    assert _reason(token, f"{PREFIX}/../recOTHER/media/hls/master.m3u8") == "wrong_prefix"   # no climbing out
    assert _reason(token, f"{PREFIX}/media/%2e%2e/x.ts") == "wrong_prefix"
    assert _reason(token, PREFIX) == "wrong_prefix"


def test_expired_tampered_foreign_and_live_tokens_are_refused():
    key = f"{PREFIX}/media/hls/master.m3u8"
    assert _reason(_sign(ttl=600), key, now=NOW + 600 + playback.CLOCK_SKEW_SECONDS) == "expired"
    header, payload, signature = _sign().split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["lc:replay-prefix"] = "ivs/v1/123456789012/other/2026/3/14/11/0/rec"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    assert _reason(f"{header}.{forged}.{signature}", "ivs/v1/123456789012/other/2026/3/14/11/0/rec/x.ts") \
        == "bad_signature"
    assert _reason(_sign(key=OTHER_PRIVATE), key) == "bad_signature"
    live, _ = playback.sign_playback_token("arn:aws:ivs:us-east-1:123456789012:channel/abcd1234", "viewer-1",
                                           private_key_pem=PRIVATE, now=NOW)
    assert _reason(live, key) == "missing_claim"      # a live playback token opens no replay
    assert _reason("not.a.token", key) == "malformed"
    import jwt

    hs = jwt.encode({"lc:replay-prefix": PREFIX, "exp": NOW + 60}, "secret", algorithm="HS256")
    assert _reason(hs, key) == "wrong_algorithm"


def test_no_token_lives_longer_than_the_ceiling():
    with pytest.raises(ValueError):
        _sign(ttl=playback.REPLAY_MAX_TTL_SECONDS + 1)
    with pytest.raises(ValueError):
        _sign(prefix="other/bucket/path")
    import jwt
    from livecommerce.media.playback import _private_key

    too_long = jwt.encode({"lc:replay-prefix": PREFIX, "exp": NOW + playback.REPLAY_MAX_TTL_SECONDS + 60},
                          _private_key(PRIVATE.encode()), algorithm="ES384")
    assert _reason(too_long, f"{PREFIX}/a.ts") == "lifetime_too_long"


def test_tokenised_paths_round_trip():
    token = _sign()
    path = "/" + playback.tokenised_path(token, f"{PREFIX}/media/hls/master.m3u8")
    assert playback.split_tokenised_path(path) == (token, f"{PREFIX}/media/hls/master.m3u8")
    assert playback.split_tokenised_path(f"/{PREFIX}/media/hls/master.m3u8") is None
    assert playback.split_tokenised_path("/t//ivs/v1/x.ts") is None and playback.split_tokenised_path("/t/abc") is None


segment = st.text(alphabet="abcdefghij0123456789_-.", min_size=1, max_size=8)


@given(st.lists(segment, min_size=1, max_size=6))
def test_key_under_accepts_only_keys_inside_the_prefix(parts):
    key = f"{PREFIX}/" + "/".join(parts)
    assert playback.key_under(key, PREFIX) == all(p not in (".", "..") for p in parts)
    assert not playback.key_under("/".join(parts), PREFIX)


@given(st.floats(min_value=0, max_value=200_000, allow_nan=False))
def test_lifetimes_cover_one_playing_within_their_bounds(duration):
    private = replay_rules.replay_token_ttl(duration, private=True)
    public = replay_rules.replay_token_ttl(duration, private=False)
    assert 0 < private <= replay_rules.PRIVATE_REPLAY_MAX_TTL_SECONDS
    assert replay_rules.PUBLIC_REPLAY_TTL_SECONDS <= public <= playback.REPLAY_MAX_TTL_SECONDS
    assert private <= public
    if duration + replay_rules.PRIVATE_REPLAY_MARGIN_SECONDS <= replay_rules.PRIVATE_REPLAY_MAX_TTL_SECONDS:
        assert private >= duration + replay_rules.PRIVATE_REPLAY_MARGIN_SECONDS   # the whole replay plays once
    assert replay_rules.REPLAY_TTL_CEILING_SECONDS == playback.REPLAY_MAX_TTL_SECONDS

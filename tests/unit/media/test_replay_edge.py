"""The replay distribution's viewer-request Lambda@Edge (cdk/assets/replay_edge, Node.js) against
CloudFront viewer-request events: a good token passes with /t/<token> stripped (the cache key and
the origin see the bare key); none, expired, tampered, another recording's, another key's, a dot
segment: 403. Tokens are signed by the Python side (media.playback.sign_replay_token), so both
ends agree on one rule. The bundle is the one the CDK construct builds (keys.mjs from the PEM)."""
from __future__ import annotations

import base64
import json
import shutil
import subprocess
import time

import pytest

from cdk.constructs.replay_edge_bundle import write_edge_bundle
from livecommerce.media import playback

pytestmark = pytest.mark.skipif(shutil.which("node") is None, reason="node missing: run `make test`")

PREFIX = "ivs/v1/123456789012/abcd1234/2026/3/14/11/0/recEDGE"
RUNNER = """
import { handler } from './index.mjs';
import { writeFileSync } from 'node:fs';
const events = JSON.parse(await new Promise((ok) => { let s = ''; process.stdin.on('data', (d) => s += d);
  process.stdin.on('end', () => ok(s)); }));
const out = [];
for (const e of events) out.push(await handler(e));
writeFileSync('out.json', JSON.stringify(out));
"""


def _event(uri: str, method: str = "GET") -> dict:
    return {"Records": [{"cf": {
        "config": {"distributionDomainName": "d111111abcdef8.cloudfront.net", "distributionId": "EDFDVBD6EXAMPLE",
                   "eventType": "viewer-request", "requestId": "4TyzHTaYWb1GX1qTfsHhEqV6HUDd_BzoBZnwfnvQc_1oF26ClkoUSEQ=="},
        "request": {"clientIp": "203.0.113.178", "method": method, "querystring": "", "uri": uri,
                    "headers": {"host": [{"key": "Host", "value": "d111111abcdef8.cloudfront.net"}]}}}}]}


def _run(tmp_path, public_pems: list[str], events: list[dict]) -> list[dict]:
    bundle = write_edge_bundle(tmp_path / "bundle", public_pems)
    (bundle / "runner.mjs").write_text(RUNNER)
    done = subprocess.run(["node", "runner.mjs"], cwd=bundle, input=json.dumps(events), capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return json.loads((bundle / "out.json").read_text())


def test_viewer_requests(tmp_path):
    private, public = playback.generate_key_pair()
    stranger, _ = playback.generate_key_pair()
    now = int(time.time())
    good, _ = playback.sign_replay_token(PREFIX, "host-1", private_key_pem=private, ttl_seconds=909, now=now)
    expired, _ = playback.sign_replay_token(PREFIX, "host-1", private_key_pem=private, ttl_seconds=60,
                                            now=now - 120)
    foreign, _ = playback.sign_replay_token(PREFIX, "host-1", private_key_pem=stranger, ttl_seconds=600, now=now)
    header, payload, signature = good.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["lc:replay-prefix"] = "ivs/v1/123456789012/abcd1234/2026/3/14/12/0/recOTHER"
    tampered = f"{header}.{base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip('=')}.{signature}"
    live, _ = playback.sign_playback_token("arn:aws:ivs:us-east-1:123456789012:channel/abcd1234", "v",
                                           private_key_pem=private, now=now)
    key = f"{PREFIX}/media/hls/720p30/3.ts"
    cases = {
        "good": f"/t/{good}/{key}",
        "good clip": f"/t/{good}/{PREFIX}/clips/p-1/720p30/playlist.m3u8",
        "no token": f"/{key}",
        "expired": f"/t/{expired}/{key}",
        "tampered": f"/t/{tampered}/ivs/v1/123456789012/abcd1234/2026/3/14/12/0/recOTHER/media/hls/master.m3u8",
        "wrong prefix": f"/t/{good}/ivs/v1/123456789012/abcd1234/2026/3/14/12/0/recOTHER/media/hls/master.m3u8",
        "climbing out": f"/t/{good}/{PREFIX}/media/../../recOTHER/media/hls/master.m3u8",
        "other key": f"/t/{foreign}/{key}",
        "live token": f"/t/{live}/{key}",
        "not served": f"/t/{good}/{PREFIX}/events/recording-ended.json",
        "garbage": f"/t/not-a-token/{key}",
    }
    answers = dict(zip(cases, _run(tmp_path, [public], [_event(uri) for uri in cases.values()])))
    assert answers["good"]["uri"] == f"/{key}" and answers["good"]["method"] == "GET"      # passed on, stripped
    assert answers["good clip"]["uri"] == f"/{PREFIX}/clips/p-1/720p30/playlist.m3u8"
    reasons = {name: answer.get("body", "").removeprefix("forbidden: replay token ")
               for name, answer in answers.items() if not name.startswith("good")}
    assert all(answers[name]["status"] == "403" for name in reasons), answers
    assert reasons == {"no token": "no_token", "expired": "expired", "tampered": "bad_signature",
                       "wrong prefix": "wrong_prefix", "climbing out": "wrong_prefix", "other key": "bad_signature",
                       "live token": "missing_claim", "not served": "not_served", "garbage": "malformed"}
    assert answers["no token"]["headers"]["access-control-allow-origin"][0]["value"] == "*"
    # rotation: the bundle may hold the old and the new public key; a key it does not hold opens nothing
    rotated = _run(tmp_path / "r", [playback.generate_key_pair()[1], public], [_event(f"/t/{good}/{key}")])
    assert rotated[0]["uri"] == f"/{key}"
    assert _run(tmp_path / "n", [], [_event(f"/t/{good}/{key}")])[0]["status"] == "403"   # no key: refuse all

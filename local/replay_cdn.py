"""The replay CDN of the local stack: what the replay CloudFront distribution is on AWS
(cdk/constructs/replay_cdn.py: the recordings bucket behind origin access control).

``GET <REPLAY_BASE_URL>/<key>`` answers the recordings bucket's object (from the embedded AWS's
S3) for the keys the distribution serves: under ``ivs/v1/`` and ending in ``.m3u8``, ``.ts`` or
``.jpg`` (recorded playlists and segments, clip playlists, thumbnails); anything else is 403, as
CloudFront answers for a path the behaviour does not allow, and a missing object is 404 (S3 behind
OAC answers 403 for a missing key; 404 is friendlier locally and changes no client).
Playlists are sent with ``Cache-Control: no-cache`` (a clip playlist is rewritten when cut again),
segments and thumbnails with a long max-age (immutable), and every answer allows any origin (CORS),
so a browser page on another port plays.

Every object is served only through a replay token in the path, as the distribution's viewer-request
Lambda@Edge (cdk/assets/replay_edge/index.mjs) does: ``GET /t/<ES384 token>/<key>`` checks the token
with the playback public key (signature, expiry, the key under the token's recording prefix:
media.playback.verify_replay_token) and serves ``<key>``; a bare ``/<key>`` or a bad token is 403. The
player's relative URIs resolve under ``/t/<token>/`` and inherit the token (docs/replays.md).
"""
from __future__ import annotations

import json
import re
from typing import Any, Callable

from livecommerce.media import playback
from local.loopback import LoopbackServer, Reply, Request

_KEY = re.compile(r"^(ivs/v1/[A-Za-z0-9/_.-]+\.(m3u8|ts|jpg))$")
TYPES = {"m3u8": "application/vnd.apple.mpegurl", "ts": "video/mp2t", "jpg": "image/jpeg"}
CORS = {"Access-Control-Allow-Origin": "*", "Access-Control-Allow-Methods": "GET, HEAD, OPTIONS",
        "Access-Control-Allow-Headers": "*"}


class ReplayCdn:
    def __init__(self, session: Any, bucket: str, *, host: str = "127.0.0.1", port: int = 0,
                 secret_id: str | None = None, public_key_pem: str | None = None,
                 clock: Callable[[], float] | None = None) -> None:
        self.s3 = session.client("s3")
        self.bucket = bucket
        if public_key_pem is None:   # the playback key's public half, as bundled into the Lambda@Edge
            secret = session.client("secretsmanager").get_secret_value(
                SecretId=secret_id or playback.DEFAULT_SECRET_ID)["SecretString"]
            public_key_pem = json.loads(secret)["public_key_pem"]
        self.public_key_pem = public_key_pem
        self.clock = clock
        self.server = LoopbackServer(self.handle, name="replay-cdn", host=host, port=port)

    @property
    def url(self) -> str:
        return self.server.url

    def start(self) -> str:
        return self.server.start()

    def stop(self) -> None:
        self.server.stop()

    def handle(self, request: Request) -> Reply:
        if request.method == "OPTIONS":
            return Reply(204, b"", dict(CORS))
        if request.method not in ("GET", "HEAD"):
            return Reply.text("method not allowed", 405, CORS)
        tokenised = playback.split_tokenised_path(request.path)
        if tokenised is None:
            return Reply.text("forbidden: replays are served as /t/<token>/ivs/v1/**.m3u8|ts|jpg", 403, CORS)
        token, key = tokenised
        match = _KEY.match(key)
        if match is None or ".." in key:
            return Reply.text("forbidden: the replay distribution serves ivs/v1/**.m3u8|ts|jpg", 403, CORS)
        try:
            playback.verify_replay_token(token, self.public_key_pem, key=key,
                                         now=self.clock() if self.clock else None)
        except playback.PlaybackTokenInvalid as exc:
            return Reply.text(f"forbidden: replay token {exc.reason}", 403, CORS)
        kind = match.group(2)
        try:
            body = self.s3.get_object(Bucket=self.bucket, Key=key)["Body"].read()
        except self.s3.exceptions.NoSuchKey:
            return Reply.text("not found", 404, CORS)
        cache = "no-cache" if kind == "m3u8" else "max-age=31536000, immutable"
        return Reply(200, body, {**CORS, "Content-Type": TYPES[kind], "Cache-Control": cache})

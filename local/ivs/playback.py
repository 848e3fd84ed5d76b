"""HLS playback, like an IVS channel's ``playbackUrl``.

``GET /api/video/v1/local.channel.<channelId>.m3u8[?token=<JWT>]``
    The multivariant playlist, as IVS serves it. For a private channel
    (``authorized: true``) the token is required: an ES384 JWT with claims
    ``aws:channel-arn`` (this channel) and ``exp`` (in the future), signed by
    the private half of a key imported with ImportPlaybackKeyPair (or a
    public key the stand-in was configured with). Optional
    ``aws:access-control-allow-origin`` (comma separated, ``*`` and
    ``https://*.example.com`` allowed) is enforced against the request's
    Origin header. With ``aws:viewer-id`` (at most 40 characters) or
    ``aws:single-use-uuid``, ``exp`` may be at most 10 minutes ahead (single
    use itself is not enforced). Missing, wrong or expired token: 403.
    Channel not live (or no segment yet): 404.

``GET /api/video/v1/live/<channelId>/<secret>/<viewer>/index.m3u8`` and ``.../<n>.ts``
    The media playlist and segments the multivariant playlist points to.
    ``<secret>`` is random per stream session and only handed out in the
    multivariant playlist, so, as on IVS, the token is checked once, when
    playback starts, and the media URLs need no token (and never carry the
    stream key). They stop working when the stream ends. ``<viewer>`` is
    random per multivariant fetch; it feeds GetStream's ``viewerCount``.

``GET /api/video/v1/local.channel.<channelId>.metadata``
    The channel's recent PutMetadata payloads (IVS embeds them in the video as
    ID3 timed metadata; a local page can poll this instead). Same token rules.

Every response carries ``Access-Control-Allow-Origin`` (``*`` unless the token
restricts origins), so a browser page on any port can play.
"""
from __future__ import annotations

import re
import secrets
import time
from pathlib import Path
from typing import Any

import jwt

from local.ivs.control_plane import ivs_server
from local.ivs.state import IvsState
from local.loopback import Reply, Request

PREFIX = "/api/video/v1/"
_MULTIVARIANT = re.compile(r"^/api/video/v1/local\.channel\.([a-zA-Z0-9-]+)\.(m3u8|metadata)$")
_MEDIA = re.compile(r"^/api/video/v1/live/([a-zA-Z0-9-]+)/([a-zA-Z0-9]+)/([a-zA-Z0-9]+)/(index\.m3u8|(\d+)\.ts)$")
SHORT_TOKEN_MAX_SECONDS = 600   # IVS: exp at most 10 minutes ahead with aws:viewer-id / single-use-uuid
PLAYLIST_TYPE = "application/vnd.apple.mpegurl"
CORS = {"Access-Control-Allow-Origin": "*", "Access-Control-Allow-Methods": "GET, HEAD, OPTIONS",
        "Access-Control-Allow-Headers": "*", "Access-Control-Expose-Headers": "*"}


def playback_url(base_url: str, channel_id: str) -> str:
    return f"{base_url}{PREFIX}local.channel.{channel_id}.m3u8"


class PlaybackDenied(Exception):
    pass


class PlaybackServer:
    def __init__(self, state: IvsState, hls_dir: Path, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self.state = state
        self.hls_dir = Path(hls_dir)
        self.server = ivs_server("playback", self.handle, host=host, port=port)

    @property
    def url(self) -> str:
        return self.server.url

    def start(self) -> str:
        return self.server.start()

    def stop(self) -> None:
        self.server.stop()

    # ------------------------------------------------------------------ routes
    def handle(self, request: Request) -> Reply:
        if request.method == "OPTIONS":
            return Reply(204, b"", dict(CORS))
        if request.method not in ("GET", "HEAD"):
            return Reply.text("method not allowed", 405, CORS)
        match = _MULTIVARIANT.match(request.path)
        if match:
            return self._multivariant(request, match.group(1), match.group(2))
        match = _MEDIA.match(request.path)
        if match:
            return self._media(request, *match.groups())
        return Reply.text("not found: playback URLs look like "
                             f"{PREFIX}local.channel.<channelId>.m3u8", 404, CORS)

    def _multivariant(self, request: Request, channel_id: str, kind: str) -> Reply:
        channel, stream = self.state.live_by_channel_id(channel_id)
        if channel is None:
            return Reply.text(f"channel {channel_id} does not exist", 404, CORS)
        headers = dict(CORS)
        if channel.authorized:
            try:
                allow_origin = self._check_token(request, channel.arn)
            except PlaybackDenied as exc:
                return Reply.text(f"playback denied: {exc}", 403, CORS)
            headers["Access-Control-Allow-Origin"] = allow_origin
            if allow_origin != "*":
                headers["Vary"] = "Origin"
        if kind == "metadata":
            return Reply.json({"channelArn": channel.arn, "metadata": self.state.metadata(channel.arn)},
                                 200, headers)
        if stream is None or not stream.started or self._playlist_path(stream.stream_key) is None:
            return Reply.text(f"channel {channel_id} is not live", 404, headers)
        viewer = secrets.token_hex(8)
        # one rendition: the encoder's own (IVS BASIC channels do the same)
        body = ("#EXTM3U\n"
                "#EXT-X-INDEPENDENT-SEGMENTS\n"
                "#EXT-X-STREAM-INF:BANDWIDTH=3000000\n"
                f"live/{channel.id}/{stream.playback_secret}/{viewer}/index.m3u8\n")
        headers.update({"Content-Type": PLAYLIST_TYPE, "Cache-Control": "no-cache"})
        return Reply(200, body.encode(), headers)

    def _media(self, request: Request, channel_id: str, secret: str, viewer: str, name: str,
               number: str | None) -> Reply:
        channel, stream = self.state.live_by_channel_id(channel_id)
        if channel is None or stream is None or not secrets.compare_digest(stream.playback_secret, secret):
            return Reply.text("stream ended or unknown", 404, CORS)
        headers = dict(CORS)
        if number is None:
            path = self._playlist_path(stream.stream_key)
            if path is None:
                return Reply.text("no playlist yet", 404, CORS)
            self.state.record_view(stream, viewer)
            text = path.read_text()
            prefix = f"{stream.stream_key}-"
            lines = []
            for line in text.splitlines():
                if line and not line.startswith("#"):
                    base = line.rsplit("/", 1)[-1]
                    if base.startswith(prefix) and base.endswith(".ts"):
                        line = base[len(prefix):]          # "<key>-12.ts" -> "12.ts"
                lines.append(line)
            headers.update({"Content-Type": PLAYLIST_TYPE, "Cache-Control": "no-cache"})
            return Reply(200, ("\n".join(lines) + "\n").encode(), headers)
        segment = self.hls_dir / f"{stream.stream_key}-{int(number)}.ts"
        try:
            data = segment.read_bytes()
        except FileNotFoundError:
            return Reply.text("segment expired", 404, CORS)
        headers.update({"Content-Type": "video/mp2t", "Cache-Control": "max-age=60"})
        return Reply(200, data, headers)

    def _playlist_path(self, stream_key: str) -> Path | None:
        path = self.hls_dir / f"{stream_key}.m3u8"
        return path if path.exists() else None

    # ------------------------------------------------------------------ tokens
    def _check_token(self, request: Request, channel_arn: str) -> str:
        """Verifies the playback token; returns the Access-Control-Allow-Origin value."""
        token = request.query.get("token")
        if not token:
            raise PlaybackDenied("this channel is private: a playback token (?token=) is required")
        keys = self.state.playback_public_keys()
        if not keys:
            raise PlaybackDenied("no playback key pair imported (ImportPlaybackKeyPair)")
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise PlaybackDenied(f"malformed token: {exc}") from None
        if header.get("alg") != "ES384":
            raise PlaybackDenied("the token must be signed with ES384")
        claims: dict[str, Any] | None = None
        for key in keys:
            try:
                claims = jwt.decode(token, key, algorithms=["ES384"],
                                    options={"require": ["exp"], "verify_aud": False, "verify_iat": False})
                break
            except jwt.ExpiredSignatureError:
                raise PlaybackDenied("the token has expired") from None
            except jwt.InvalidSignatureError:
                continue
            except jwt.PyJWTError as exc:
                raise PlaybackDenied(f"invalid token: {exc}") from None
        if claims is None:
            raise PlaybackDenied("the token is not signed by an imported playback key")
        if claims.get("aws:channel-arn") != channel_arn:
            raise PlaybackDenied("the token's aws:channel-arn is not this channel")
        viewer_id = claims.get("aws:viewer-id")
        if viewer_id is not None and (not isinstance(viewer_id, str) or not 0 < len(viewer_id) <= 40):
            raise PlaybackDenied("aws:viewer-id must be a string of at most 40 characters")
        if (viewer_id is not None or "aws:single-use-uuid" in claims) and \
                float(claims["exp"]) > time.time() + SHORT_TOKEN_MAX_SECONDS + 30:
            raise PlaybackDenied("with aws:viewer-id or aws:single-use-uuid, exp may be at most 10 minutes ahead")
        allowed = claims.get("aws:access-control-allow-origin")
        if not allowed or allowed == "*":
            return "*"
        origin = request.headers.get("origin")
        if origin is None:
            return "*"   # as on IVS: the origin restriction binds browsers only
        if not any(_origin_matches(origin, pattern.strip()) for pattern in str(allowed).split(",")):
            raise PlaybackDenied(f"origin {origin} is not allowed by the token")
        return origin


def _origin_matches(origin: str, pattern: str) -> bool:
    if pattern == "*" or origin == pattern:
        return True
    if "://*." in pattern:
        scheme, rest = pattern.split("://*.", 1)
        return origin.startswith(scheme + "://") and origin.endswith("." + rest)
    return False


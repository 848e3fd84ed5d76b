"""Public rooms' covers on the local stack, under the API's origin: what the web distribution's
``/covers/*`` behaviour is on AWS (cdk/stacks/web_stack.py: the public-covers bucket behind origin
access control).

``GET /covers/<room_id>/<upload_id>`` answers that object of the public-covers bucket (from the embedded
AWS's S3) with its stored type and Cache-Control (a year, immutable: rooms.public_covers); a missing one
is 404 (S3 behind OAC would answer 403), any other method 405, a key with anything but the two parts 404.
Only this prefix is served: the rest of the bucket, and the private materials bucket, never are."""
from __future__ import annotations

import re
from typing import Any

from local.loopback import Reply, Request

PATH = re.compile(r"^/covers/([A-Za-z0-9_-]+)/([A-Za-z0-9_-]+)$")


class PublicCovers:
    def __init__(self, session: Any, bucket: str) -> None:
        self.s3 = session.client("s3")
        self.bucket = bucket

    def serve(self, request: Request) -> Reply | None:
        path = request.target.partition("?")[0]
        if not path.startswith("/covers/"):
            return None
        if request.method not in ("GET", "HEAD"):
            return Reply.text("method not allowed", 405)
        if PATH.match(path) is None:
            return Reply.text("not found", 404)
        try:
            found = self.s3.get_object(Bucket=self.bucket, Key=path.lstrip("/"))
        except self.s3.exceptions.NoSuchKey:
            return Reply.text("not found", 404)
        body = found["Body"].read()
        headers = {"Content-Type": found.get("ContentType") or "application/octet-stream",
                   "Cache-Control": found.get("CacheControl") or "no-cache",
                   "X-Content-Type-Options": "nosniff", "Access-Control-Allow-Origin": "*"}
        return Reply(200, b"" if request.method == "HEAD" else body, headers)

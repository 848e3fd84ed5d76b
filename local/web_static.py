"""The web clients on the local stack, under the API's origin (as CloudFront serves them on AWS,
cdk/stacks/web_stack.py): the built pages of web/dist (`make web`).

  /console/...        the host console        (web/dist/console/index.html for every path below it)
  /watch/<room>...    the viewer page         (web/dist/watch/index.html)
  /ops/...            the operations dashboard (web/dist/ops/index.html)
  /web-assets/<file>  the bundles (hashed names: cached for a year)
  /config.json        what the pages need to know: the API base ("" = this origin), the stage
  POST /__local/pay/wechat {"out_trade_no"}
                      the buyer confirms a WeChat Pay payment in the local stand-in (what the
                      mini-program's wx.requestPayment does on a phone): forwarded to the stand-in's
                      POST /__standin/pay, which notifies the API like WeChat Pay does. Local only.

Every answer carries the security headers the CloudFront response headers policy sets (CSP, HSTS,
nosniff, referrer policy, frame options); the CSP here also allows the loopback ports the local
IVS, MQTT broker and replay CDN listen on. Anything else returns None: the API Gateway emulation
answers it.
"""
from __future__ import annotations

import json
import mimetypes
import os
import urllib.error
import urllib.request
from pathlib import Path

from local.loopback import Reply, Request

ROOT = Path(__file__).resolve().parent.parent
DIST = ROOT / "web" / "dist"
PAGES = ("console", "watch", "ops")
ASSETS = "web-assets"
PAY_PATH = "/__local/pay/wechat"

CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8", ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8", ".json": "application/json", ".map": "application/json",
    ".svg": "image/svg+xml", ".png": "image/png", ".jpg": "image/jpeg", ".webp": "image/webp",
    ".ico": "image/x-icon", ".woff2": "font/woff2", ".woff": "font/woff", ".wasm": "application/wasm",
}

# The pages' policy: scripts and styles from this origin only (the bundles; no inline script, no eval,
# no CDN), media from blob: (hls.js feeds MediaSource) and the local HLS / replay servers, connections
# to this origin and the loopback stand-ins (IVS playback, MQTT over WebSocket).
LOCAL_CSP = "; ".join((
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data: blob: http: https:",
    "media-src 'self' blob: http://127.0.0.1:* http://localhost:*",
    "connect-src 'self' http://127.0.0.1:* ws://127.0.0.1:* http://localhost:* ws://localhost:*",
    "worker-src 'self' blob:",
    "font-src 'self' data:",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
))
SECURITY_HEADERS = {
    "Content-Security-Policy": LOCAL_CSP,
    "Strict-Transport-Security": "max-age=63072000; includeSubDomains",   # what CloudFront sends (ignored over http)
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "X-Frame-Options": "DENY",
}


def _problem(status: int, code: str, title: str, detail: str) -> Reply:
    body = {"type": f"https://livecommerce.example.com/problems/{code}", "title": title, "status": status,
            "detail": detail, "code": code}
    return Reply(status, json.dumps(body, ensure_ascii=False).encode(),
                 {"Content-Type": "application/problem+json", **SECURITY_HEADERS})


def _file(path: Path, *, cache: str, head: bool) -> Reply:
    content_type = CONTENT_TYPES.get(path.suffix.lower()) or mimetypes.guess_type(path.name)[0] or \
        "application/octet-stream"
    body = path.read_bytes()
    headers = {"Content-Type": content_type, "Cache-Control": cache, **SECURITY_HEADERS}
    if head:
        headers["Content-Length"] = str(len(body))
        body = b""
    return Reply(200, body, headers)


def _inside(base: Path, relative: str) -> Path | None:
    """base/relative when it is a file inside base (no `..`, no symlink out), else None."""
    try:
        candidate = (base / relative).resolve()
        candidate.relative_to(base.resolve())
    except (ValueError, OSError):
        return None
    return candidate if candidate.is_file() else None


def config(stage: str = "local") -> dict:
    return {"api": "", "stage": stage, "local": True}


def serve(request: Request, dist: Path | None = None) -> Reply | None:
    """The web answer for this request, or None when it is not a web path."""
    dist = dist or DIST
    path = request.target.partition("?")[0]
    if request.method == "POST" and path == PAY_PATH:
        return _pay(request)
    top = path.split("/")[1] if path.startswith("/") else ""
    if path == "/config.json" or top in (*PAGES, ASSETS):
        if request.method not in ("GET", "HEAD"):
            return _problem(405, "method_not_allowed", "Method not allowed", "The web pages are read with GET.")
        head = request.method == "HEAD"
        if path == "/config.json":
            return Reply(200, b"" if head else json.dumps(config(os.environ.get("STAGE", "local"))).encode(),
                         {"Content-Type": "application/json", "Cache-Control": "no-store", **SECURITY_HEADERS})
        if top == ASSETS:
            found = _inside(dist / ASSETS, path[len(ASSETS) + 2:])
            if found is None:
                return _problem(404, "not_found", "Not found", "No such web asset.")
            return _file(found, cache="public, max-age=31536000, immutable", head=head)
        if path == f"/{top}":
            return Reply(301, b"", {"Location": f"/{top}/", **SECURITY_HEADERS})
        page = dist / top / "index.html"
        if not page.is_file():
            return _problem(503, "web_not_built", "The web pages are not built",
                            "Run `make web` (make local does it) to build web/dist.")
        return _file(page, cache="no-cache", head=head)   # a single-page app: every path below the page
    return None


def _pay(request: Request) -> Reply:
    base = os.environ.get("WECHATPAY_API_BASE", "").rstrip("/")
    try:
        trade = str(request.json_object()["out_trade_no"])
    except (ValueError, KeyError, TypeError):
        return _problem(422, "validation_error", "Invalid request", "out_trade_no is required.")
    if not base:
        return _problem(503, "payments_unavailable", "No payment stand-in", "The WeChat Pay stand-in is not running.")
    forward = urllib.request.Request(f"{base}/__standin/pay", data=json.dumps({"out_trade_no": trade}).encode(),
                                     method="POST", headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(forward, timeout=20) as response:
            answer = json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as err:
        detail = (json.loads(err.read() or b"{}") or {}).get("error") or err.reason
        return _problem(409 if err.code < 500 else 502, "payment_failed", "The payment did not go through", str(detail))
    except (urllib.error.URLError, OSError) as err:
        return _problem(502, "payment_failed", "The payment did not go through", str(err))
    if not answer.get("acknowledged"):
        return _problem(502, "payment_failed", "The payment did not go through",
                        f"the shop did not acknowledge the payment notification (status {answer.get('status')})")
    return Reply(200, json.dumps({"paid": True, "out_trade_no": trade}).encode(),
                 {"Content-Type": "application/json", **SECURITY_HEADERS})

"""The edge of the local stack: nginx's proxy_cache in front of the local API with the cache
policy of the CloudFront distribution that serves the room-entry snapshot on AWS
(cdk/constructs/edge_cdn.py), so `make local` and the benchmark meet the same behaviour:

- only `GET|HEAD /v1/rooms/<id>/snapshot` and `/v1/rooms/<id>/feed` (key: path and `seq` alone)
  go through; anything else is 404 here (on AWS a
  CloudFront Function answers so for paths without a behaviour);
- the cache key is the path alone: no query string, cookie or Authorization header is part of
  it, and none reaches the origin (the request goes out with its headers stripped and the
  query string dropped), so a cache-busting `?x=<random>` is the same entry;
- the origin's `Cache-Control: public, max-age=1, stale-while-revalidate=2` decides the
  lifetime, 200 and 404 alike (negative caching: a flood for a room that does not exist
  reaches the origin at most once a second), with 1 s as the fallback;
- one request refreshes an entry while the others wait for it (`proxy_cache_lock`) or get the
  stale copy (`proxy_cache_use_stale updating`, `proxy_cache_background_update`): at most one
  origin request per key per TTL, however many viewers arrive.

nginx runs as a child process with its configuration, cache and logs in a temporary directory.
"""
from __future__ import annotations

import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.parse
from pathlib import Path

from local.loopback import die_with_parent

SNAPSHOT_LOCATION = r"^/v1/rooms/[^/]+/snapshot$"
FEED_LOCATION = r"^/v1/rooms/[^/]+/feed$"          # keyed on the path and `seq` alone
TTL_SECONDS = 1
INSTALL_HINT = "sudo apt-get install nginx (debian-packages.txt lists it)"


class EdgeCacheUnavailable(RuntimeError):
    """nginx is not installed."""


def find_nginx() -> str:
    binary = shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx")
                                           if os.access(p, os.X_OK)), None)
    if binary is None:
        raise EdgeCacheUnavailable(f"nginx is not installed: {INSTALL_HINT}")
    return binary


def _free_port(host: str) -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def config(*, host: str, port: int, origin: str, workdir: Path) -> str:
    """The nginx configuration (a pure function of its inputs: tests/unit reads it)."""
    parsed = urllib.parse.urlsplit(origin)
    upstream = f"{parsed.hostname}:{parsed.port or 80}"
    # As root nginx would run its worker as `nobody`, who cannot write the private temp directory.
    user = f"user {pwd.getpwuid(os.geteuid()).pw_name};\n" if os.geteuid() == 0 else ""
    return f"""daemon off;
{user}worker_processes 1;
pid {workdir}/nginx.pid;
error_log {workdir}/error.log warn;
events {{ worker_connections 4096; }}
http {{
    client_body_temp_path {workdir}/body;
    proxy_temp_path {workdir}/proxy;
    fastcgi_temp_path {workdir}/fastcgi;
    uwsgi_temp_path {workdir}/uwsgi;
    scgi_temp_path {workdir}/scgi;
    log_format edge '$request_method $uri $status $upstream_cache_status $request_time';
    access_log {workdir}/access.log edge;
    proxy_cache_path {workdir}/cache levels=1:2 keys_zone=edge:10m max_size=64m inactive=60s use_temp_path=off;
    upstream origin {{ server {upstream}; keepalive 16; }}
    server {{
        listen {host}:{port};
        server_tokens off;
        location ~ {SNAPSHOT_LOCATION} {{
            limit_except GET {{ deny all; }}
            proxy_cache edge;
            proxy_cache_key $uri;
            proxy_cache_methods GET HEAD;
            proxy_cache_valid 200 404 {TTL_SECONDS}s;
            proxy_cache_lock on;
            proxy_cache_lock_timeout 5s;
            proxy_cache_lock_age 5s;
            proxy_cache_use_stale updating error timeout http_500 http_502 http_503 http_504;
            proxy_cache_background_update on;
            proxy_ignore_headers Set-Cookie Vary;
            proxy_http_version 1.1;
            proxy_pass_request_headers off;
            proxy_pass_request_body off;
            proxy_set_header Host {parsed.hostname};
            proxy_set_header Connection "";
            proxy_set_header Accept "application/json";
            proxy_pass http://origin$uri;
            add_header X-Cache $upstream_cache_status always;
        }}
        location ~ {FEED_LOCATION} {{
            limit_except GET {{ deny all; }}
            proxy_cache edge;
            proxy_cache_key $uri?seq=$arg_seq;
            proxy_cache_valid 200 404 {TTL_SECONDS}s;
            proxy_cache_lock on;
            proxy_cache_lock_timeout 5s;
            proxy_cache_use_stale updating error timeout http_500 http_502 http_503 http_504;
            proxy_cache_background_update on;
            proxy_ignore_headers Set-Cookie Vary;
            proxy_http_version 1.1;
            proxy_pass_request_headers off;
            proxy_pass_request_body off;
            proxy_set_header Host {parsed.hostname};
            proxy_set_header Connection "";
            proxy_pass http://origin$uri?seq=$arg_seq;
            add_header X-Cache $upstream_cache_status always;
        }}
        location / {{
            default_type application/problem+json;
            return 404 '{{"type":"https://errors.livecommerce.example/route_not_found","title":"Not found","status":404,"code":"route_not_found","detail":"The edge serves room snapshots only."}}';
        }}
    }}
}}
"""


class EdgeCache:
    def __init__(self, origin: str, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self.origin = origin.rstrip("/")
        self.host = host
        self.port = port or _free_port(host)
        self.workdir = Path(tempfile.mkdtemp(prefix="lc-edge-"))
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self, timeout: float = 10.0) -> str:
        binary = find_nginx()
        for sub in ("body", "proxy", "fastcgi", "uwsgi", "scgi", "cache"):
            (self.workdir / sub).mkdir(exist_ok=True)
        conf = self.workdir / "nginx.conf"
        conf.write_text(config(host=self.host, port=self.port, origin=self.origin, workdir=self.workdir))
        self.process = subprocess.Popen([binary, "-c", str(conf), "-p", str(self.workdir), "-e",
                                         str(self.workdir / "error.log")],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                        preexec_fn=die_with_parent())   # gone with the stack, even after kill -9
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise EdgeCacheUnavailable(f"nginx exited: {self.process.stderr.read().decode(errors='replace')}")
            try:
                with socket.create_connection((self.host, self.port), timeout=0.2):
                    return self.url
            except OSError:
                time.sleep(0.05)
        raise EdgeCacheUnavailable("nginx did not start listening")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGQUIT)
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        shutil.rmtree(self.workdir, ignore_errors=True)

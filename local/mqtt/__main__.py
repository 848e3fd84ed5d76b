"""Run the local IoT Core stand-in alone (LocalBroker(separate_process=True) does):

    python -m local.mqtt --ws-port 8083 --http-port 8084 [--authorizer-url URL]

Without --authorizer-url the realtime authorizer function runs in this
process (it then needs the stack's environment: tables, token secret).
Prints `READY ws=<url> publish=<url>` and runs until SIGTERM or Ctrl-C.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
for extra in (ROOT / "layers" / "shared" / "python", ROOT):
    if str(extra) not in sys.path:
        sys.path.insert(0, str(extra))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Local MQTT-over-WebSocket broker standing in for IoT Core")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--ws-port", type=int, default=8083)
    parser.add_argument("--http-port", type=int, default=8084)
    parser.add_argument("--authorizer-url", default=None)
    parser.add_argument("--lifecycle-url", default=None)   # where IoT Core's lifecycle events go
    args = parser.parse_args(argv)

    import gc

    from local.loopback import serve_until_stopped
    from local.mqtt.broker import LocalBroker, lambda_authorizer, remote_authorizer

    # A broker's heap is mostly long-lived sessions (a thousand viewers are tens of
    # thousands of objects); collecting the young generation less often keeps full
    # collections, which walk all of it and stall every delivery, rare.
    gc.set_threshold(50_000, 50, 100)

    authorizer = remote_authorizer(args.authorizer_url) if args.authorizer_url else lambda_authorizer()
    from local.mqtt.lifecycle import remote_sink

    lifecycle = remote_sink(args.lifecycle_url) if args.lifecycle_url else None
    broker = LocalBroker(host=args.host, ws_port=args.ws_port, http_port=args.http_port, authorizer=authorizer,
                         lifecycle=lifecycle)
    urls = broker.start()
    print(f"READY ws={urls['ws']} publish={urls['publish']}", flush=True)
    serve_until_stopped()
    broker.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())

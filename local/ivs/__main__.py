"""``python -m local.ivs``: the IVS stand-in alone (events are printed, and put on
``--bus`` when given, through ``AWS_ENDPOINT_URL``)."""
from __future__ import annotations

import argparse
import json
import logging
import sys

from local.ivs import IngestUnavailable, LocalIvs
from local.ivs.events import describe
from local.loopback import serve_until_stopped


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Local Amazon IVS stand-in (RTMP in, HLS out, IVS API).")
    parser.add_argument("--rtmp-port", type=int, default=1935, help="RTMP ingest port (0: a free one)")
    parser.add_argument("--http-port", type=int, default=0, help="HLS playback port (0: a free one)")
    parser.add_argument("--control-port", type=int, default=0, help="IVS API port (0: a free one)")
    parser.add_argument("--bus", default=None, help="EventBridge bus for IVS events (default: print only)")
    parser.add_argument("--reconnect-window", type=float, default=60.0, help="recording reconnect window (s)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(message)s")

    printed = lambda event: print(f"event  {event['detail-type']}: {describe(event)}", flush=True)  # noqa: E731
    ivs = LocalIvs(args.bus, rtmp_port=args.rtmp_port, http_port=args.http_port, control_port=args.control_port,
                   reconnect_window_seconds=args.reconnect_window)
    ivs.subscribe(printed)
    try:
        urls = ivs.start()
    except (IngestUnavailable, OSError) as exc:
        print(f"could not start: {exc}", file=sys.stderr)
        return 1
    print(json.dumps({"standin": "ivs", **urls, "AWS_ENDPOINT_URL_IVS": urls["control"]}), flush=True)
    serve_until_stopped()
    ivs.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())

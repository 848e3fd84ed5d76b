"""Fan-out of server-side publishes on the local broker (local.mqtt.LocalBroker).

One room, N MQTT-over-WebSocket subscribers (default 1,000) in a child
process, M QoS 0 publishes to the room's danmaku topic through the iot-data
REST API (`POST /topics/{topic}`) at a fixed rate, each carrying the time it
was sent. The broker runs as the local stack runs it (its own process,
`python -m local.mqtt`) unless --in-process; connections are authorized by an
allow-the-room authorizer here that returns the real viewer policy, so every
delivery still passes the iot:Receive check.

Prints p50/p99/max of
  broker fan-out    the publish handler receiving the request -> the last
                    subscriber's bytes handed to its socket (the broker's own
                    figure, from its health endpoint, when it records one)
  publish->receive  before the POST here -> the last of the N subscribers
                    having the message (subscriber clocks: same host)

    .venv/bin/python benchmarks/broker_fanout.py [--viewers 1000] [--messages 100] [--rate 5]

The subscribers are a minimal WebSocket + MQTT 3.1.1 client on asyncio
protocols (no websockets library, no per-message coroutine), so that the
receiving side adds as little as possible to the measured latency.
"""
from __future__ import annotations

import argparse
import base64
import http.client
import json
import multiprocessing as mp
import os
import sys
import time
from pathlib import Path
from urllib.parse import quote, urlsplit

ROOT = Path(__file__).resolve().parent.parent
for extra in (ROOT / "layers" / "shared" / "python", ROOT):
    if str(extra) not in sys.path:
        sys.path.append(str(extra))  # appended: PYTHONPATH may put another `local` first

STAGE = "bench"
ROOM = "01HZZZZZZZZZZZZZZZZZZZZZZZ"
SEQ_AT, SENT_AT = 7, 24  # offsets in the payload `{"seq":00000001,"sent_ns":...`


# -- subscribers (child process) -------------------------------------------------------

def _utf8(value: str) -> bytes:
    data = value.encode()
    return len(data).to_bytes(2, "big") + data


def _mqtt(first: int, body: bytes) -> bytes:
    length, out = len(body), bytearray([first])
    while True:
        byte, length = length % 128, length // 128
        out.append(byte | (0x80 if length else 0))
        if not length:
            return bytes(out) + body


def _client_frame(opcode: int, payload: bytes) -> bytes:
    """A client WebSocket frame: masked, as RFC 6455 requires (an all-zero key leaves the bytes as they are)."""
    n = len(payload)
    if n < 126:
        head = bytes([0x80 | opcode, 0x80 | n])
    elif n < 65536:
        head = bytes([0x80 | opcode, 0x80 | 126]) + n.to_bytes(2, "big")
    else:
        head = bytes([0x80 | opcode, 0x80 | 127]) + n.to_bytes(8, "big")
    return head + b"\x00\x00\x00\x00" + payload


def subscribers(url: str, viewers: list[tuple[str, str]], ready, stop, out) -> None:  # noqa: ANN001
    import asyncio

    parts = urlsplit(url)
    last: dict[int, float] = {}     # seq -> latest receipt (time.time())
    first: dict[int, float] = {}    # seq -> earliest receipt
    count: dict[int, int] = {}
    state = {"subscribed": 0, "refused": 0, "closed": 0}

    class Subscriber(asyncio.Protocol):
        def __init__(self, client_id: str, user: str, done: asyncio.Future) -> None:
            self.client_id, self.user, self.done = client_id, user, done
            self.buffer, self.upgraded, self.transport = b"", False, None

        def connection_made(self, transport) -> None:  # noqa: ANN001
            self.transport = transport
            key = base64.b64encode(os.urandom(16)).decode()
            transport.write((f"GET {parts.path or '/'} HTTP/1.1\r\nHost: {parts.netloc}\r\n"
                             f"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                             f"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: mqtt\r\n\r\n").encode())

        def data_received(self, data: bytes) -> None:
            now = time.time()
            self.buffer += data
            if not self.upgraded:
                head, sep, rest = self.buffer.partition(b"\r\n\r\n")
                if not sep:
                    return
                if b" 101 " not in head.split(b"\r\n", 1)[0]:
                    self._finish("refused")
                    return
                self.upgraded, self.buffer = True, rest
                topics = [f"lc/{STAGE}/rooms/{ROOM}/{t}" for t in ("danmaku", "events", f"users/{self.user}")]
                connect = (_utf8("MQTT") + bytes([4, 0x80 | 0x40 | 0x02]) + (0).to_bytes(2, "big")
                           + _utf8(self.client_id) + _utf8(ROOM) + _utf8(self.user))
                subscribe = (1).to_bytes(2, "big") + b"".join(_utf8(t) + b"\x01" for t in topics)
                self.transport.write(_client_frame(2, _mqtt(0x10, connect)) + _client_frame(2, _mqtt(0x82, subscribe)))
            buffer, i = self.buffer, 0
            while len(buffer) - i >= 2:
                opcode, length, start = buffer[i] & 0x0F, buffer[i + 1] & 0x7F, i + 2
                if length == 126:
                    length, start = int.from_bytes(buffer[i + 2:i + 4], "big"), i + 4
                elif length == 127:
                    length, start = int.from_bytes(buffer[i + 2:i + 10], "big"), i + 10
                if len(buffer) < start + length:
                    break
                payload, i = buffer[start:start + length], start + length
                if opcode == 2:
                    self._mqtt_packets(payload, now)
                elif opcode == 9:
                    self.transport.write(_client_frame(0xA, payload))
                elif opcode == 8:
                    self.transport.close()
            self.buffer = buffer[i:]

        def _mqtt_packets(self, data: bytes, now: float) -> None:
            i = 0
            while i < len(data):
                kind, multiplier, length, i = data[i] >> 4, 1, 0, i + 1
                while True:
                    byte, i = data[i], i + 1
                    length += (byte & 0x7F) * multiplier
                    multiplier *= 128
                    if not byte & 0x80:
                        break
                body, i = data[i:i + length], i + length
                if kind == 3:
                    offset = 2 + int.from_bytes(body[:2], "big")
                    if body.startswith(b'{"seq":', offset):
                        seq = int(body[offset + SEQ_AT:offset + SEQ_AT + 8])
                        count[seq] = count.get(seq, 0) + 1
                        if now > last.get(seq, 0.0):
                            last[seq] = now
                        if now < first.get(seq, float("inf")):
                            first[seq] = now
                elif kind == 2 and body[1] != 0:
                    self._finish("refused")
                elif kind == 9:
                    self._finish("refused" if 0x80 in body[2:] else "subscribed")

        def _finish(self, outcome: str) -> None:
            if not self.done.done():
                state[outcome] += 1
                self.done.set_result(outcome)

        def connection_lost(self, exc) -> None:  # noqa: ANN001
            if self.done.done():
                state["closed"] += 1
            self._finish("refused")

    async def run() -> None:
        loop = asyncio.get_running_loop()
        gate = asyncio.Semaphore(32)

        async def one(client_id: str, user: str) -> None:
            async with gate:
                done = loop.create_future()
                try:
                    await loop.create_connection(lambda: Subscriber(client_id, user, done), parts.hostname, parts.port)
                    await asyncio.wait_for(done, 60)
                except (OSError, asyncio.TimeoutError):
                    if not done.done():
                        state["refused"] += 1

        await asyncio.gather(*(one(c, u) for c, u in viewers))
        ready.set()
        while not stop.is_set():
            await asyncio.sleep(0.05)

    asyncio.run(run())
    out.put({"last": last, "first": first, "count": count, **state})


# -- the broker and the publisher (this process) ---------------------------------------

def room_authorizer(event: dict) -> dict:
    """Any user of the bench room gets the real viewer policy (password = user id)."""
    from livecommerce.interaction import policy

    mqtt = event["protocolData"]["mqtt"]
    user = base64.b64decode(mqtt.get("password", "")).decode()
    if mqtt.get("username") != ROOM or not user:
        return {"isAuthenticated": False}
    document = policy.viewer_policy(partition="aws", region="local", account="000000000000", stage=STAGE,
                                    room_id=ROOM, user_id=user, client_id=mqtt["clientId"])
    return {"isAuthenticated": True, "principalId": user, "policyDocuments": [json.dumps(document)],
            "disconnectAfterInSeconds": 3600, "refreshAfterInSeconds": 300}


def percentile(values: list[float], pct: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(pct / 100 * (len(ordered) - 1))))]


def summary(values: list[float]) -> str:
    if not values:
        return "n/a (the broker records no fan-out time)"
    return (f"p50 {percentile(values, 50):6.2f} ms   p99 {percentile(values, 99):6.2f} ms   "
            f"max {max(values):6.2f} ms   (n={len(values)})")


def health(publish_url: str) -> dict:
    parts = urlsplit(publish_url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    conn.request("GET", "/__standin/health")
    body = json.loads(conn.getresponse().read())
    conn.close()
    return body


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--viewers", type=int, default=1000)
    parser.add_argument("--messages", type=int, default=100)
    parser.add_argument("--rate", type=float, default=5.0, help="publishes per second")
    parser.add_argument("--payload-bytes", type=int, default=1024, help="about a batch of danmaku")
    parser.add_argument("--in-process", action="store_true",
                        help="run the broker on a thread of this process (as the e2e tests do)")
    args = parser.parse_args()
    import logging

    logging.basicConfig(level=logging.ERROR)
    from local.mqtt.broker import LocalBroker

    broker = LocalBroker(authorizer=room_authorizer, separate_process=not args.in_process)
    urls = broker.start()
    viewers = [(f"lc-{STAGE}-viewer{n}-{n:012d}", f"viewer{n}") for n in range(args.viewers)]
    ctx = mp.get_context("spawn")
    ready, stop, out = ctx.Event(), ctx.Event(), ctx.Queue()
    child = ctx.Process(target=subscribers, args=(urls["ws"], viewers, ready, stop, out), daemon=True)
    t0 = time.monotonic()
    child.start()
    try:
        if not ready.wait(300):
            print("subscribers did not connect in time", file=sys.stderr)
            return 1
        setup = time.monotonic() - t0
        topic = f"lc/{STAGE}/rooms/{ROOM}/danmaku"
        parts = urlsplit(urls["publish"])
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
        pad = b"x" * max(0, args.payload_bytes - 64)

        def publish(seq: int) -> float:
            sent = time.time()
            body = b'{"seq":%08d,"sent_ns":%019d,"pad":"%s"}' % (seq, time.time_ns(), pad)
            conn.request("POST", f"/topics/{quote(topic, safe='')}?qos=0", body=body,
                         headers={"Content-Type": "application/octet-stream"})
            response = conn.getresponse()
            response.read()
            if response.status != 200:
                raise RuntimeError(f"publish answered {response.status}")
            return sent

        for seq in range(5):  # warm-up: not counted (seq 9000000+)
            publish(9_000_000 + seq)
            time.sleep(0.05)
        time.sleep(0.5)
        before = health(urls["publish"])
        fanouts_before = before["stats"].get("fanouts", 0)
        sent_at: dict[int, float] = {}
        post_ms: list[float] = []
        next_at = time.monotonic()
        for seq in range(args.messages):
            time.sleep(max(0.0, next_at - time.monotonic()))
            next_at += 1.0 / args.rate
            sent_at[seq] = publish(seq)
            post_ms.append((time.time() - sent_at[seq]) * 1000)
        conn.close()
        time.sleep(1.0)
        after = health(urls["publish"])
        stop.set()
        result = out.get(timeout=60)
        child.join(10)
    finally:
        stop.set()
        broker.stop()

    recorded = after.get("fanout_ms") or []
    new = after["stats"].get("fanouts", 0) - fanouts_before
    fanout = recorded[-new:] if 0 < new <= len(recorded) else []
    last = [(result["last"][s] - sent_at[s]) * 1000 for s in sent_at if s in result["last"]]
    first = [(result["first"][s] - sent_at[s]) * 1000 for s in sent_at if s in result["first"]]
    complete = sum(1 for s in sent_at if result["count"].get(s) == result["subscribed"])
    print(f"broker fan-out: 1 room, {result['subscribed']} subscribers ({result['refused']} refused, "
          f"{result['closed']} closed), {args.messages} QoS 0 publishes of {args.payload_bytes} B at "
          f"{args.rate:g}/s, broker {'in-process' if args.in_process else 'in its own process'} "
          f"(setup {setup:.0f} s), {os.cpu_count()} CPUs, Python {sys.version.split()[0]}")
    print(f"  delivered to all       {complete} of {args.messages} publishes")
    print(f"  broker fan-out         {summary(fanout)}")
    print(f"  publish->first recv    {summary(first)}")
    print(f"  publish->last recv     {summary(last)}")
    print(f"  POST /topics (client)  {summary(post_ms)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

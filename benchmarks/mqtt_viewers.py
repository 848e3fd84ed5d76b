"""Many MQTT-over-WebSocket viewers on one asyncio loop, for the benchmarks.

A minimal WebSocket (RFC 6455) + MQTT 3.1.1 client on asyncio protocols: no
websockets library and no coroutine per message, so the receiving side adds
as little as possible to measured latencies. Each chunk read from a socket is
stamped with the time it was read (`time.time()`), before any parsing: that is
when a viewer's own device would have the bytes. More exactly, each read is
stamped with the moment the event loop's select() returned with the socket
ready: a thousand viewers share one loop here, and the ones handled last in a
round should not be charged for the parsing of the others (each real viewer
reads on a device of its own).

    run_viewers(url, viewers, on_publish, ready=..., stop=...)   # blocks until stop is set

`viewers` are (client_id, username, password, topics); `on_publish(index,
topic_bytes, payload, now)` is called for every PUBLISH (QoS 1 ones are
acknowledged). Returns {"subscribed", "refused", "closed"}.
"""
from __future__ import annotations

import base64
import os
import time
from typing import Callable
from urllib.parse import urlsplit

OnPublish = Callable[[int, bytes, bytes, float], None]


def utf8(value: str | bytes) -> bytes:
    data = value.encode() if isinstance(value, str) else value
    return len(data).to_bytes(2, "big") + data


def mqtt_packet(first: int, body: bytes) -> bytes:
    length, out = len(body), bytearray([first])
    while True:
        byte, length = length % 128, length // 128
        out.append(byte | (0x80 if length else 0))
        if not length:
            return bytes(out) + body


def client_frame(opcode: int, payload: bytes) -> bytes:
    """A client WebSocket frame: masked, as RFC 6455 requires (an all-zero key leaves the bytes as they are)."""
    n = len(payload)
    if n < 126:
        head = bytes([0x80 | opcode, 0x80 | n])
    elif n < 65536:
        head = bytes([0x80 | opcode, 0x80 | 126]) + n.to_bytes(2, "big")
    else:
        head = bytes([0x80 | opcode, 0x80 | 127]) + n.to_bytes(8, "big")
    return head + b"\x00\x00\x00\x00" + payload


def run_viewers(url: str, viewers: list[tuple[str, str, str, list[str]]], on_publish: OnPublish, *,
                ready, stop, keepalive: int = 300, connect_timeout: float = 60.0) -> dict[str, int]:  # noqa: ANN001
    import asyncio

    parts = urlsplit(url)
    state = {"subscribed": 0, "refused": 0, "closed": 0}

    class Viewer(asyncio.Protocol):
        def __init__(self, index: int, done: asyncio.Future) -> None:
            self.index, self.done = index, done
            self.buffer, self.upgraded, self.transport = b"", False, None

        def connection_made(self, transport) -> None:  # noqa: ANN001
            self.transport = transport
            key = base64.b64encode(os.urandom(16)).decode()
            transport.write((f"GET {parts.path or '/'}{'?' + parts.query if parts.query else ''} HTTP/1.1\r\n"
                             f"Host: {parts.netloc}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                             f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
                             f"Sec-WebSocket-Protocol: mqtt\r\n\r\n").encode())

        def data_received(self, data: bytes) -> None:
            now = selected_at[0] or time.time()
            self.buffer += data
            if not self.upgraded:
                head, sep, rest = self.buffer.partition(b"\r\n\r\n")
                if not sep:
                    return
                if b" 101 " not in head.split(b"\r\n", 1)[0]:
                    self._finish("refused")
                    return
                self.upgraded, self.buffer = True, rest
                client_id, username, password, topics = viewers[self.index]
                connect = (utf8("MQTT") + bytes([4, 0x80 | 0x40 | 0x02]) + keepalive.to_bytes(2, "big")
                           + utf8(client_id) + utf8(username) + utf8(password))
                subscribe = (1).to_bytes(2, "big") + b"".join(utf8(t) + b"\x01" for t in topics)
                self.transport.write(client_frame(2, mqtt_packet(0x10, connect))
                                     + client_frame(2, mqtt_packet(0x82, subscribe)))
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
                    self._packets(payload, now)
                elif opcode == 9:
                    self.transport.write(client_frame(0xA, payload))
                elif opcode == 8:
                    self.transport.close()
            self.buffer = buffer[i:]

        def _packets(self, data: bytes, now: float) -> None:
            i = 0
            while i < len(data):
                first, multiplier, length, i = data[i], 1, 0, i + 1
                while True:
                    byte, i = data[i], i + 1
                    length += (byte & 0x7F) * multiplier
                    multiplier *= 128
                    if not byte & 0x80:
                        break
                body, i = data[i:i + length], i + length
                kind = first >> 4
                if kind == 3:
                    qos = (first >> 1) & 3
                    topic_len = int.from_bytes(body[:2], "big")
                    offset = 2 + topic_len
                    if qos:
                        self.transport.write(client_frame(2, bytes([0x40, 2]) + body[offset:offset + 2]))
                        offset += 2
                    on_publish(self.index, body[2:2 + topic_len], body[offset:], now)
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

    selected_at = [0.0]

    async def run() -> None:
        loop = asyncio.get_running_loop()
        selector = getattr(loop, "_selector", None)   # SelectorEventLoop (Linux, macOS)
        if selector is not None:
            select = selector.select

            def stamped(timeout=None):  # noqa: ANN001, ANN202
                ready = select(timeout)
                selected_at[0] = time.time()
                return ready

            selector.select = stamped
        gate = asyncio.Semaphore(32)

        async def one(index: int) -> None:
            async with gate:
                done = loop.create_future()
                try:
                    await loop.create_connection(lambda: Viewer(index, done), parts.hostname, parts.port)
                    await asyncio.wait_for(done, connect_timeout)
                except (OSError, asyncio.TimeoutError):
                    if not done.done():
                        state["refused"] += 1

        await asyncio.gather(*(one(n) for n in range(len(viewers))))
        # Each real viewer has a device of its own; here a thousand share one heap, which
        # the collector should not stop to walk while receipts are being stamped.
        import gc

        gc.collect()
        gc.freeze()
        ready.set()
        while not stop.is_set():
            await asyncio.sleep(0.05)

    asyncio.run(run())
    return state

"""The embedded AWS's HTTP server: one thread runs the event loop and every call into moto.

Why one thread: with a thread per connection, each call's threads (read the request, run it under
the lock, write the answer) took turns for one GIL with the thread running moto. Under the crowd
every hand-off waited up to the interpreter's switch interval (5 ms): a function worker spent
~130 ms per API invocation waiting on its ~3 AWS calls, of which moto's own work was ~1.6 ms each,
and the lock sat idle a third of the time between holders (measured with per-call timers and
py-spy; docs/local_load.md). Here the loop reads every request that has arrived, runs the calls one
at a time in the order `Turns` gives (API first, an aged background call first, a background call
waiting for a gap in the API's calls; local/aws_priority.py) and writes the answers: nothing waits
for another thread to be scheduled.

Durability: a call that changed state is appended to the journal when it runs (so the journal
holds the order the calls ran in), and its answer leaves only after an fdatasync that covers it.
One fdatasync, on a helper thread so calls go on meanwhile, covers every record appended before it
started (group commit).

Long polls: an SQS ReceiveMessage asking for WaitTimeSeconds runs as a 0-second receive in its turn;
while it finds nothing it waits, holding no turn, until its queue takes a message, a second passes
(a message whose visibility timeout or delay ended is then seen, as moto's own loop does) or the
wait is over, as SQS answers a long poll as soon as a message is there.
"""
from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import io
import json
import sys
import threading
import time
from email.utils import formatdate
from typing import Any, Callable
from urllib.parse import urlsplit

from local.aws_priority import PriorityLock, Turn, Turns, kind_of

MAX_HEAD_BYTES = 64 * 1024


class _BadRequest(Exception):
    pass


class AwsHttpServer:
    """moto's WSGI `app` behind HTTP/1.1 keep-alive on one event-loop thread (see the module doc).

    `state`: the StateFolder whose journal takes every successful write (None: nothing kept);
    `journalled(environ, body)`: whether a successful call is a write to keep; `long_poll(environ)`:
    (the same receive with WaitTimeSeconds 0, the wait, the queue's name) for a long poll, else None;
    `sqs_added`: per queue name, the messages moto's queues have taken (kept current by the caller's
    patch of moto's Queue.add_message); `control`: path -> handler(environ, body) -> (status, headers,
    payload), for the stack's own requests (a handler may return an awaitable)."""

    def __init__(self, host: str, port: int, app: Any, *, turns: Turns, lock: PriorityLock,
                 state: Any = None, journalled: Callable[[dict, bytes], bool] = lambda environ, body: False,
                 long_poll: Callable[[dict], Any] = lambda environ: None, sqs_added: dict[str, int] | None = None,
                 profiled: Any = None, control: dict[str, Callable[..., Any]] | None = None,
                 collect_garbage: Callable[[], Any] | None = None, quiet_seconds: float = 2.0,
                 collect_at_least_every: float = 600.0) -> None:
        self.host, self.port, self.app = host, port, app
        self.turns, self.lock, self.state = turns, lock, state
        self.journalled, self.long_poll = journalled, long_poll
        self.sqs_added = sqs_added if sqs_added is not None else {}
        self.profiled = profiled if profiled is not None else contextlib.nullcontext()
        self.control = control or {}
        self.long_polls_released = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server: asyncio.AbstractServer | None = None
        self._tasks: list[asyncio.Task] = []
        self._wake: asyncio.Event | None = None
        self._parked: list[tuple[str, int, asyncio.Future]] = []
        self._appended = 0          # journal records appended (by the calls, in the order they ran)
        self._synced = 0            # of those, how many an fdatasync has covered
        self._syncing: asyncio.Future | None = None
        self._journal: Any = None
        self._sync_pool = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="embedded-aws-fsync")
        self._date = (0, "")
        # full garbage collections, run by the server (see _collect_when_quiet)
        self.collect_garbage = collect_garbage
        self.quiet_seconds, self.collect_at_least_every = quiet_seconds, collect_at_least_every
        self._last_api_call = float("-inf")
        self._api_since_collect = False
        self.collections = 0

    # -- lifecycle -----------------------------------------------------------------------------
    def start(self) -> str:
        """Bind, serve on a thread of its own; returns the URL."""
        ready: concurrent.futures.Future = concurrent.futures.Future()

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            asyncio.set_event_loop(loop)
            try:
                self._wake = asyncio.Event()
                server = loop.run_until_complete(asyncio.start_server(
                    self._connection, self.host, self.port, backlog=256, limit=MAX_HEAD_BYTES))
                self.port = server.sockets[0].getsockname()[1]
                # held here: the loop keeps only weak references to its tasks
                self._tasks = [loop.create_task(self._run_calls())]
                if self.collect_garbage is not None:
                    self._tasks.append(loop.create_task(self._collect_when_quiet()))
            except BaseException as exc:  # noqa: BLE001 - the starter raises it
                ready.set_exception(exc)
                return
            self._server = server
            ready.set_result(None)
            try:
                loop.run_forever()
            finally:
                loop.close()

        self._thread = threading.Thread(target=run, name="embedded-aws", daemon=True)
        self._thread.start()
        ready.result(timeout=30)
        return self.url

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def stop(self) -> None:
        """Stop taking and running calls (a call running finishes first; connections are closed)."""
        if self._loop is not None and self._thread is not None and self._thread.is_alive():
            with contextlib.suppress(Exception):
                asyncio.run_coroutine_threadsafe(self._shut_down(), self._loop).result(timeout=10)
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=10)
        self._sync_pool.shutdown(wait=True)

    async def _shut_down(self) -> None:
        self._server.close()
        others = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
        for task in others:
            task.cancel()
        await asyncio.gather(*others, return_exceptions=True)

    def release_long_polls(self) -> None:
        """Answer every long poll now, and each one after it at once (the stack is stopping)."""
        self.long_polls_released = True
        for _, _, parked in self._parked:
            if not parked.done():
                parked.set_result(None)

    # -- the calls, one at a time --------------------------------------------------------------
    async def call(self, kind: str, call: Callable[[], Any]) -> Any:
        """`call()` on the loop in its turn; its result (or its exception, raised here)."""
        done = asyncio.get_running_loop().create_future()
        self.turns.add(Turn(kind, time.monotonic(), call, done))
        self._wake.set()
        return await done

    async def _run_calls(self) -> None:
        while True:
            turn, wait = self.turns.next(time.monotonic())
            if turn is None:
                self._wake.clear()
                if wait is None:
                    await self._wake.wait()
                else:
                    with contextlib.suppress(asyncio.TimeoutError):
                        await asyncio.wait_for(self._wake.wait(), wait)
                continue
            try:
                with self.lock.hold(turn.kind), self.profiled:
                    result = turn.call()
            except Exception as exc:  # noqa: BLE001 - the caller's request answers it
                if not turn.done.done():
                    turn.done.set_exception(exc)
            else:
                if not turn.done.done():
                    turn.done.set_result(result)
            self.turns.finished(turn, time.monotonic())
            if turn.kind == "api":
                self._last_api_call, self._api_since_collect = time.monotonic(), True
            if self._parked:
                self._wake_long_polls()
            await asyncio.sleep(0)   # read what has arrived meanwhile, so the next pick sees it

    async def _collect_when_quiet(self) -> None:
        """A full garbage collection once the API has been quiet `quiet_seconds` after calls (and at
        least every `collect_at_least_every` seconds), on the loop, so it never lands in the middle
        of a crowd's calls. moto keeps every item as objects on one heap: the interpreter's own full
        collections scanned all of it, pausing every call 80 to 330 ms, about once every 7 s under
        the crowd (measured; docs/local_load.md). The caller turns those automatic ones off."""
        last = time.monotonic()
        while True:
            await asyncio.sleep(min(0.5, self.quiet_seconds))
            now = time.monotonic()
            quiet = self._api_since_collect and now - self._last_api_call >= self.quiet_seconds
            if quiet or now - last >= self.collect_at_least_every:
                self.collect_garbage()
                self.collections += 1
                last, self._api_since_collect = time.monotonic(), False

    def _wake_long_polls(self) -> None:
        for queue, added, parked in self._parked:
            if not parked.done() and self.sqs_added.get(queue, 0) != added:
                parked.set_result(None)

    # -- durability ----------------------------------------------------------------------------
    def _append(self, environ: dict, body: bytes) -> int:
        """On the loop, in the call's turn: the record's number in the journal."""
        self._journal = self.state.append(environ, body)
        self._appended += 1
        return self._appended

    async def _synced_up_to(self, record: int) -> None:
        while self._synced < record:
            if self._syncing is None:
                self._syncing = asyncio.ensure_future(self._sync())
            await asyncio.shield(self._syncing)

    async def _sync(self) -> None:
        covers = self._appended
        try:
            await asyncio.get_running_loop().run_in_executor(self._sync_pool, self.state.sync, self._journal)
            self._synced = max(self._synced, covers)
        finally:
            self._syncing = None

    # -- one request ---------------------------------------------------------------------------
    async def answer(self, environ: dict, body: bytes) -> tuple[str, list[tuple[str, str]], bytes]:
        handler = self.control.get(environ["PATH_INFO"])
        if handler is not None:
            result = handler(environ, body)
            return await result if asyncio.iscoroutine(result) else result
        kind = kind_of(environ)
        poll = self.long_poll({**environ, "wsgi.input": io.BytesIO(body), "CONTENT_LENGTH": str(len(body))})
        if poll is not None:
            return await self._answer_long_poll(kind, *poll)
        seen: dict[str, Any] = {}

        def capture(status: str, headers: Any, exc_info: Any = None) -> Any:
            seen["status"], seen["headers"] = status, headers
            return lambda data: None

        def in_turn() -> tuple[bytes, int | None]:
            payload = b"".join(self.app({**environ, "wsgi.input": io.BytesIO(body)}, capture))
            if (self.state is not None and int(seen["status"].split()[0]) < 400
                    and self.journalled(environ, body)):
                return payload, self._append(environ, body)
            return payload, None

        payload, record = await self.call(kind, in_turn)
        if record is not None:
            await self._synced_up_to(record)   # durable before the caller hears "done"
        return seen["status"], seen["headers"], payload

    async def _answer_long_poll(self, kind: str, once: dict, wait: float,
                                queue: str) -> tuple[str, list[tuple[str, str]], bytes]:
        deadline = time.monotonic() + wait
        raw = once["wsgi.input"]
        seen: dict[str, Any] = {}

        def capture(status: str, headers: Any, exc_info: Any = None) -> Any:
            seen["status"], seen["headers"] = status, headers
            return lambda data: None

        def receive_once() -> tuple[int, bytes]:
            added = self.sqs_added.get(queue, 0)   # additions happen on this loop too: none is missed
            return added, b"".join(self.app({**once, "wsgi.input": io.BytesIO(raw)}, capture))

        while True:
            added, payload = await self.call(kind, receive_once)
            remaining = deadline - time.monotonic()
            if not seen["status"].startswith("200") or remaining <= 0 or self.long_polls_released:
                break
            try:
                if json.loads(payload or b"{}").get("Messages"):
                    break
            except ValueError:
                break
            parked = asyncio.get_running_loop().create_future()
            entry = (queue, added, parked)
            self._parked.append(entry)
            try:
                await asyncio.wait_for(parked, min(1.0, remaining))
            except asyncio.TimeoutError:
                pass
            finally:
                self._parked.remove(entry)
        return seen["status"], seen["headers"], payload

    # -- HTTP/1.1 ------------------------------------------------------------------------------
    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = writer.get_extra_info("peername") or ("", 0)
        try:
            while True:
                try:
                    request = await self._read_request(reader, writer, peer)
                except _BadRequest as exc:
                    writer.write(self._response("GET", "400 Bad Request", [("Content-Type", "text/plain")],
                                                str(exc).encode(), close=True))
                    await writer.drain()
                    return
                if request is None:
                    return
                environ, body, close = request
                try:
                    status, headers, payload = await self.answer(environ, body)
                except Exception as exc:  # noqa: BLE001 - answered, as moto's server answers a crash
                    status, headers, payload = ("500 Internal Server Error", [("Content-Type", "text/plain")],
                                                f"{type(exc).__name__}: {exc}".encode())
                writer.write(self._response(environ["REQUEST_METHOD"], status, headers, payload, close=close))
                await writer.drain()
                if close:
                    return
        except (ConnectionError, asyncio.IncompleteReadError):
            return
        finally:
            writer.close()

    async def _read_request(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                            peer: Any) -> tuple[dict, bytes, bool] | None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except asyncio.IncompleteReadError:
            return None   # the client closed the connection between requests
        except asyncio.LimitOverrunError:
            raise _BadRequest("request head too large")
        lines = head.decode("latin-1").lstrip("\r\n").split("\r\n")
        try:
            method, target, version = lines[0].split(" ", 2)
        except ValueError:
            raise _BadRequest(f"bad request line {lines[0]!r}")
        split = urlsplit(target)
        environ: dict[str, Any] = {
            "REQUEST_METHOD": method, "SCRIPT_NAME": "", "PATH_INFO": split.path, "QUERY_STRING": split.query,
            "RAW_URI": target, "REQUEST_URI": target, "SERVER_NAME": self.host, "SERVER_PORT": str(self.port),
            "SERVER_PROTOCOL": version, "REMOTE_ADDR": peer[0], "CONTENT_TYPE": "", "wsgi.errors": sys.stderr,
            "wsgi.url_scheme": "http", "wsgi.version": (1, 0), "wsgi.multithread": False,
            "wsgi.multiprocess": False, "wsgi.run_once": False,
        }
        length = chunked = None
        expect_continue = False
        connection = ""
        for line in lines[1:]:
            if not line:
                continue
            name, sep, value = line.partition(":")
            if not sep:
                raise _BadRequest(f"bad header line {line!r}")
            name, value = name.strip(), value.strip()
            lower = name.lower()
            if lower == "content-type":
                environ["CONTENT_TYPE"] = value
                continue
            if lower == "content-length":
                if not value.isdigit():
                    raise _BadRequest("bad Content-Length")
                length = int(value)
                continue
            if lower == "transfer-encoding":
                chunked = "chunked" in value.lower()
                continue
            if lower == "expect":
                expect_continue = value.lower() == "100-continue"
            elif lower == "connection":
                connection = value.lower()
            key = "HTTP_" + name.upper().replace("-", "_")
            environ[key] = f"{environ[key]},{value}" if key in environ else value
        if expect_continue and version == "HTTP/1.1":
            writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        if chunked:
            # Read off the connection (else its bytes would be taken for the next request) and handed
            # on without a CONTENT_LENGTH, as werkzeug's server does: S3 then refuses a POST without
            # Content-Length (411), as S3 itself does.
            body = await self._read_chunked(reader)
            environ["wsgi.input_terminated"] = True
        else:
            body = await reader.readexactly(length) if length else b""
            environ["CONTENT_LENGTH"] = str(length or 0)
        close = connection == "close" or (version == "HTTP/1.0" and connection != "keep-alive")
        return environ, body, close

    @staticmethod
    async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
        parts = []
        while True:
            line = await reader.readline()
            try:
                size = int(line.split(b";")[0].strip() or b"0", 16)
            except ValueError:
                raise _BadRequest("bad chunk size")
            if not size:
                break
            parts.append(await reader.readexactly(size))
            await reader.readline()                    # the CRLF after each chunk
        while (await reader.readline()) not in (b"\r\n", b"\n", b""):
            pass                                       # trailer fields, then the blank line
        return b"".join(parts)

    def _response(self, method: str, status: str, headers: list[tuple[str, str]], payload: bytes, *,
                  close: bool) -> bytes:
        now = int(time.time())
        if self._date[0] != now:
            self._date = (now, formatdate(now, usegmt=True))
        lines = [f"HTTP/1.1 {status}", "Server: embedded-aws", f"Date: {self._date[1]}"]
        declared = None
        for name, value in headers:
            lower = name.lower()
            if lower == "content-length":
                declared = value
            elif lower not in ("connection", "transfer-encoding"):
                lines.append(f"{name}: {value}")
        # A HEAD answer has no body but its Content-Length is the resource's size (HeadObject's
        # ContentLength): keep the app's, never the empty payload's.
        head = method == "HEAD"
        lines.append(f"Content-Length: {declared if head and declared is not None else len(payload)}")
        if close:
            lines.append("Connection: close")
        data = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        return data if head else data + payload

"""The embedded AWS serves calls made on behalf of an API request first (local/aws_priority.py):
the priority lock's order (API before an earlier background waiter, arrival order within a kind),
aging (a background waiter is deferred, never starved), exceptions release it; and a worker marks the
AWS calls of an API invocation with X-Local-Priority and those of a background one not."""
from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from local import aws_priority, lambda_runtime
from local.aws_priority import PriorityLock
from tests.polling import poll


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _waiter(lock: PriorityLock, kind: str, name: str, order: list, hold: float = 0.0) -> threading.Thread:
    def run() -> None:
        with lock.hold(kind):
            order.append(name)
            if hold:
                time.sleep(hold)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def _queued(lock: PriorityLock, **counts: int) -> bool:
    return lock.waiting() == {"api": 0, "background": 0, **counts}


def test_api_waiters_go_first_in_arrival_order_then_background_in_arrival_order():
    lock = PriorityLock(aging_seconds=60, clock=Clock())
    order: list[str] = []
    lock.acquire("background")
    threads = [_waiter(lock, "background", "bg1", order)]
    assert poll(lambda: _queued(lock, background=1), 5)
    threads.append(_waiter(lock, "background", "bg2", order))
    assert poll(lambda: _queued(lock, background=2), 5)
    threads.append(_waiter(lock, "api", "api1", order))
    assert poll(lambda: _queued(lock, background=2, api=1), 5)
    threads.append(_waiter(lock, "api", "api2", order))
    assert poll(lambda: _queued(lock, background=2, api=2), 5)
    lock.release()
    for thread in threads:
        thread.join(5)
    assert order == ["api1", "api2", "bg1", "bg2"]
    stats = lock.stats()
    assert stats["api"]["acquired"] == 2 and stats["background"]["acquired"] == 3 and stats["aged"] == 0
    assert _queued(lock)


def test_a_background_waiter_that_has_waited_the_aging_time_goes_before_the_api():
    clock = Clock()
    lock = PriorityLock(aging_seconds=2, clock=clock)
    order: list[str] = []
    lock.acquire("api")
    threads = [_waiter(lock, "background", "bg", order)]
    assert poll(lambda: _queued(lock, background=1), 5)
    clock.now = 1.0
    threads.append(_waiter(lock, "api", "api1", order))
    assert poll(lambda: _queued(lock, background=1, api=1), 5)
    clock.now = 2.5   # bg has waited 2.5 s >= 2: aged; api1 only 1.5 s
    lock.release()
    for thread in threads:
        thread.join(5)
    assert order == ["bg", "api1"]
    assert lock.stats()["aged"] == 1


def test_before_aging_the_api_still_goes_first():
    clock = Clock()
    lock = PriorityLock(aging_seconds=2, clock=clock)
    order: list[str] = []
    lock.acquire("api")
    threads = [_waiter(lock, "background", "bg", order)]
    assert poll(lambda: _queued(lock, background=1), 5)
    threads.append(_waiter(lock, "api", "api1", order))
    assert poll(lambda: _queued(lock, background=1, api=1), 5)
    clock.now = 1.9
    lock.release()
    for thread in threads:
        thread.join(5)
    assert order == ["api1", "bg"]


def test_a_crowd_of_api_callers_never_starves_a_background_caller():
    """Four threads take the lock for the API back to back (one is always waiting when another
    releases); the background caller still gets it once it has waited the aging time."""
    lock = PriorityLock(aging_seconds=0.05)
    stop = threading.Event()

    def api_caller() -> None:
        while not stop.is_set():
            with lock.hold("api"):
                time.sleep(0.001)

    crowd = [threading.Thread(target=api_caller, daemon=True) for _ in range(4)]
    for thread in crowd:
        thread.start()
    try:
        assert poll(lambda: lock.stats()["api"]["waited"] > 20, 10)   # the crowd contends
        started = time.monotonic()
        done = threading.Event()

        def background_caller() -> None:
            with lock.hold("background"):
                done.set()

        threading.Thread(target=background_caller, daemon=True).start()
        assert done.wait(10), "the background caller was starved"
        assert time.monotonic() - started < 5
        assert lock.stats()["aged"] >= 1   # it went ahead of waiting API callers by aging
    finally:
        stop.set()
        for thread in crowd:
            thread.join(5)


def test_an_exception_releases_the_lock_and_hands_it_on():
    lock = PriorityLock()
    with pytest.raises(ZeroDivisionError):
        with lock.hold("api"):
            1 / 0
    order: list[str] = []
    lock.acquire("background")
    thread = _waiter(lock, "api", "api1", order)
    assert poll(lambda: _queued(lock, api=1), 5)
    with pytest.raises(KeyError):
        with lock:   # reentrant: the owner takes it again, and an exception inside releases only that hold
            raise KeyError("x")
    assert order == []   # still held by the outer acquire
    lock.release()
    thread.join(5)
    assert order == ["api1"] and _queued(lock)
    lock.acquire("api")   # free again
    lock.release()


def test_release_by_a_thread_that_does_not_hold_it_is_refused_and_bad_kinds_too():
    lock = PriorityLock()
    with pytest.raises(RuntimeError):
        lock.release()
    with pytest.raises(ValueError):
        lock.acquire("urgent")
    lock.acquire("api")
    errors: list[BaseException] = []

    def other() -> None:
        try:
            lock.release()
        except RuntimeError as exc:
            errors.append(exc)

    thread = threading.Thread(target=other)
    thread.start()
    thread.join(5)
    assert errors
    lock.release()


# -- the worker side ---------------------------------------------------------------------------------

class _Recorder(BaseHTTPRequestHandler):
    seen: list[dict[str, str]] = []

    def do_POST(self) -> None:  # noqa: N802
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        type(self).seen.append({k.lower(): v for k, v in self.headers.items()})
        body = json.dumps({}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/x-amz-json-1.0")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture()
def recorder():
    _Recorder.seen = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    aws_priority.set_current_kind("background")


def test_a_worker_marks_the_aws_calls_of_an_api_invocation_and_not_those_of_a_background_one(recorder,
                                                                                           monkeypatch):
    """`_worker_main` (a worker process's loop, here on a thread) is told the kind with each invocation;
    the handler's botocore calls (a client of a session made after install, as in a worker) carry
    X-Local-Priority: api during an API invocation and no such header during a background one."""
    import botocore.session

    aws_priority.install()

    def handler(name, event):
        client = botocore.session.Session().create_client(
            "dynamodb", region_name="us-east-1", endpoint_url=recorder,
            aws_access_key_id="local", aws_secret_access_key="local")
        client.get_item(TableName="t", Key={"pk": {"S": name}})
        return aws_priority.current_kind()

    monkeypatch.setattr(lambda_runtime, "_invoke_here", handler)
    import multiprocessing

    parent, child = multiprocessing.Pipe()
    thread = threading.Thread(target=lambda_runtime._worker_main, args=(child,), daemon=True)
    thread.start()
    answers = []
    for name, kind in (("api1", "api"), ("bg1", "background"), ("api2", "api")):
        parent.send((name, {}, None, kind))
        assert parent.poll(30)
        answers.append(parent.recv())
    parent.send(("old", {}, None))   # a message without a kind (an older pool): background
    assert parent.poll(30)
    answers.append(parent.recv())
    parent.close()
    thread.join(5)
    assert [ok for ok, *_ in answers] == [True] * 4, answers
    assert [value for _, value, _ in answers] == ["api", "background", "api", "background"]
    marks = [seen.get("x-local-priority") for seen in _Recorder.seen]
    assert marks == ["api", None, "api", None]
    # added after signing: the SigV4 signature does not name it (AWS ignores unsigned headers)
    assert all("x-local-priority" not in seen["authorization"] for seen in _Recorder.seen)


def test_the_embedded_aws_reads_the_kind_from_the_header():
    assert aws_priority.kind_of({"HTTP_X_LOCAL_PRIORITY": "api"}) == "api"
    assert aws_priority.kind_of({"HTTP_X_LOCAL_PRIORITY": "urgent"}) == "background"
    assert aws_priority.kind_of({}) == "background"

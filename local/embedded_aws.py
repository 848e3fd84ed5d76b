"""The embedded AWS: moto, made safe for concurrent callers.

moto's in-memory backends are not thread-safe (a transaction deep-copies
tables another thread is changing). Real DynamoDB executes each request
atomically, so we serialize requests to moto: our threads still interleave
between requests exactly as concurrent Lambdas do against AWS, and each
request sees the all-or-nothing behaviour the real service gives. That is what
the concurrency tests rely on.
"""
from __future__ import annotations

import json
import os
import threading
from typing import Any

from local.aws_priority import DEFAULT_AGING_SECONDS, DEFAULT_API_GAP_SECONDS, PriorityLock, kind_of

# One call at a time into moto; the calls made on behalf of an API request first (X-Local-Priority:
# api, local/aws_priority.py), a background call that has waited LOCAL_AWS_AGING_SECONDS going first
# (never starved). The server (local/aws_server.py) runs its calls on one thread in that order, each
# holding `_lock`, which in-process moto users take directly.
AGING_ENV = "LOCAL_AWS_AGING_SECONDS"
API_GAP_ENV = "LOCAL_AWS_API_GAP_SECONDS"
_lock = PriorityLock(float(os.environ.get(AGING_ENV, DEFAULT_AGING_SECONDS)))
_patched = False
PRIORITY_PATH = "/__local/priority"   # GET: the calls' turns per kind (local/aws_priority.py Turns.stats)


def serialize_in_process_moto() -> None:
    """For tests using `mock_aws`: one botocore request at a time into moto."""
    global _patched
    if _patched:
        return
    from moto.core.botocore_stubber import BotocoreStubber

    original = BotocoreStubber.__call__

    def locked(self: Any, event_name: str, request: Any, **kwargs: Any) -> Any:
        with _lock:
            return original(self, event_name, request, **kwargs)

    BotocoreStubber.__call__ = locked  # type: ignore[method-assign]
    _patched = True


class EmbeddedAwsServer:
    """moto's server on loopback with one request at a time (see module doc)."""

    def __init__(self, host: str = "127.0.0.1", port: int = 4566) -> None:
        self.host = host
        self.port = port
        self._server = None
        self._thread: threading.Thread | None = None

    def start(self) -> str:
        from moto.moto_server.werkzeug_app import (DomainDispatcherApplication, MotoRequestHandler,
                                                   create_backend_app)
        from werkzeug.serving import make_server

        app = DomainDispatcherApplication(create_backend_app)

        def serialized(environ: dict, start_response: Any) -> list[bytes]:
            with _lock.hold(kind_of(environ)):
                return list(app(environ, start_response))

        self._server = make_server(self.host, self.port, serialized, threaded=True,
                                   request_handler=MotoRequestHandler)
        self.port = self._server.server_port
        self._thread = threading.Thread(target=self._server.serve_forever, name="embedded-aws", daemon=True)
        self._thread.start()
        return self.url

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)


# --------------------------------------------------------------------------------------------
# The embedded AWS in its own process, with its state kept in a folder on request.
#
# The local stack runs moto in a child process (`python -m local.embedded_aws`), so moto's
# CPU time no longer competes for one GIL with the API server and the functions. With a
# state folder it is durable: every mutating request that succeeded is appended to a
# journal and fsynced *before* the answer leaves (so anything acknowledged survives a
# `kill -9`); on start the last snapshot is loaded and the journal replayed in order
# through moto, then compacted into a new snapshot (also written on a clean stop).
# Replaying DynamoDB, Secrets Manager, EventBridge and S3 writes gives the same state (the
# values are in the requests). Read-only calls are not journalled. SQS receipt handles are
# random, so an event delivered but not yet compacted may be delivered again after a crash:
# at-least-once, as EventBridge and SQS promise anyway.
# --------------------------------------------------------------------------------------------

import pickle
import re
import struct
import sys
from pathlib import Path

SNAPSHOT = "moto.snapshot"
COMPACT_PATH = "/__local/compact"
JOURNAL = "moto.journal"
# The services the local stack uses (local.resources); their moto backends are snapshotted.
SNAPSHOT_SERVICES = ("dynamodb", "dynamodbstreams", "sqs", "events", "secretsmanager", "kms", "s3", "sts", "iam",
                     "scheduler")
# Calls that do something rather than store something: never journalled, so a restart never does
# them again (a replayed StartExecution would run a reminder run a second time, a replayed SNS
# Publish would put a second SMS in the inbox). State machines are created at every start
# (local.stepfunctions.create_state_machines); executions do not outlive the process.
NOT_JOURNALLED = frozenset({"StartExecution", "StartSyncExecution", "Publish", "PublishBatch"})
# The stack tells the embedded AWS where the local Lambda Invoke API is (it starts later), so the
# state machines' Lambda tasks reach the real handlers (local.stepfunctions.route_lambda_tasks).
LAMBDA_ENDPOINT_PATH = "/__local/lambda-endpoint"
_lambda_endpoint: list[str] = []
_READ_ONLY = re.compile(r"^(Get|List|Describe|Query|Scan|BatchGet|TransactGet|Receive|Decrypt|Encrypt|"
                        r"GenerateDataKey|GenerateRandom|Sign|Verify|Head|Lookup|Test|Validate)")
_ENVIRON_KEYS = ("REQUEST_METHOD", "PATH_INFO", "QUERY_STRING", "CONTENT_TYPE", "CONTENT_LENGTH", "SERVER_NAME",
                 "SERVER_PORT", "SERVER_PROTOCOL", "SCRIPT_NAME", "RAW_URI", "REQUEST_URI")


def _operation(environ: dict, body: bytes) -> str:
    target = environ.get("HTTP_X_AMZ_TARGET")
    if target:
        return target.rpartition(".")[2]
    if body and b"Action=" in body[:200]:
        match = re.search(rb"(?:^|&)Action=([A-Za-z]+)", body)
        if match:
            return match.group(1).decode()
    return environ.get("REQUEST_METHOD", "GET")   # REST (S3): the method says it


def is_journalled(environ: dict, body: bytes) -> bool:
    """A successful request that changes state (and is not an action: NOT_JOURNALLED)."""
    return is_mutating(environ, body) and _operation(environ, body) not in NOT_JOURNALLED


def is_mutating(environ: dict, body: bytes) -> bool:
    operation = _operation(environ, body)
    if operation in ("GET", "HEAD", "OPTIONS"):
        return False
    if operation in ("PUT", "POST", "DELETE", "PATCH"):
        return True
    return not _READ_ONLY.match(operation)


class _StatePickler(pickle.Pickler):
    """moto's backends hold locks and cryptography keys, which pickle cannot take as they are."""

    _LOCK_TYPES = (type(threading.Lock()), type(threading.RLock()))

    def reducer_override(self, obj: Any) -> Any:
        if isinstance(obj, self._LOCK_TYPES):
            return (threading.RLock if "RLock" in type(obj).__name__ else threading.Lock), ()
        if isinstance(obj, threading.Condition):
            return threading.Condition, ()
        module = type(obj).__module__ or ""
        if module.startswith("cryptography.") and hasattr(obj, "private_bytes"):
            from cryptography.hazmat.primitives import serialization

            pem = obj.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption())
            return _load_private_key, (pem,)
        if module.startswith("cryptography.") and hasattr(obj, "public_bytes"):
            from cryptography.hazmat.primitives import serialization

            return _load_public_key, (obj.public_bytes(serialization.Encoding.PEM,
                                                       serialization.PublicFormat.SubjectPublicKeyInfo),)
        return NotImplemented


def _load_private_key(pem: bytes) -> Any:
    from cryptography.hazmat.primitives import serialization

    return serialization.load_pem_private_key(pem, password=None)


def _load_public_key(pem: bytes) -> Any:
    from cryptography.hazmat.primitives import serialization

    return serialization.load_pem_public_key(pem)


def _backends() -> dict[str, Any]:
    from moto.backends import get_backend

    return {name: get_backend(name) for name in SNAPSHOT_SERVICES}


class StateFolder:
    """The snapshot and the journal of one embedded AWS (see above)."""

    def __init__(self, path: Path, *, fresh: bool = False) -> None:
        self.path = Path(path)
        self.path.mkdir(parents=True, exist_ok=True)
        if fresh:
            for name in (SNAPSHOT, JOURNAL, SNAPSHOT + ".tmp"):
                (self.path / name).unlink(missing_ok=True)
        self._journal = None
        self.appended = 0

    # -- on start ---------------------------------------------------------------------------
    def restore(self, app: Any) -> tuple[bool, int]:
        """Load the snapshot and replay the journal through `app`; (snapshot loaded, requests replayed)."""
        loaded = False
        snapshot = self.path / SNAPSHOT
        if snapshot.exists():
            with snapshot.open("rb") as handle:
                state = pickle.load(handle)
            for name, backend in _backends().items():
                if name in state:
                    backend.clear()
                    backend.update(state[name])
            loaded = True
        replayed = 0
        journal = self.path / JOURNAL
        if journal.exists():
            import io

            data = journal.read_bytes()
            offset = 0
            while offset + 4 <= len(data):
                (size,) = struct.unpack(">I", data[offset:offset + 4])
                if offset + 4 + size > len(data):
                    break   # a torn last record: it was never acknowledged
                environ, body = pickle.loads(data[offset + 4:offset + 4 + size])
                offset += 4 + size
                environ = {**environ, "wsgi.input": io.BytesIO(body), "wsgi.errors": sys.stderr,
                           "wsgi.url_scheme": "http", "wsgi.version": (1, 0), "wsgi.multithread": True,
                           "wsgi.multiprocess": False, "wsgi.run_once": False}
                list(app(environ, lambda *args, **kwargs: None))
                replayed += 1
        return loaded, replayed

    # -- while serving (under the embedded AWS's lock) ---------------------------------------
    def append(self, environ: dict, body: bytes) -> Any:
        """Write one request to the journal (under the lock, so in execution order); returns the
        file to `sync` before answering (outside the lock: concurrent writers share one fsync)."""
        if self._journal is None:
            self._journal = (self.path / JOURNAL).open("ab", buffering=0)
        kept = {k: v for k, v in environ.items() if (k in _ENVIRON_KEYS or k.startswith("HTTP_"))
                and isinstance(v, str)}
        record = pickle.dumps((kept, body), protocol=pickle.HIGHEST_PROTOCOL)
        self._journal.write(struct.pack(">I", len(record)) + record)
        self.appended += 1
        return self._journal

    @staticmethod
    def sync(journal: Any) -> None:
        try:
            os.fdatasync(journal.fileno())   # the data and the file's length; enough to read it back
        except ValueError:   # compacted and closed meanwhile: the record is in the fsynced snapshot
            pass

    def compact(self) -> None:
        """A new snapshot of every backend, then an empty journal (atomic: rename, fsync)."""
        import io

        buffer = io.BytesIO()
        _StatePickler(buffer, protocol=pickle.HIGHEST_PROTOCOL).dump(
            {name: dict(backend) for name, backend in _backends().items()})
        tmp = self.path / (SNAPSHOT + ".tmp")
        with tmp.open("wb") as handle:
            handle.write(buffer.getvalue())
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, self.path / SNAPSHOT)
        if self._journal is not None:
            self._journal.close()
            self._journal = None
        with (self.path / JOURNAL).open("wb") as handle:
            os.fsync(handle.fileno())
        directory = os.open(self.path, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)


def speed_up_moto() -> None:
    """Three of moto's per-request costs that grow with load, cached or made O(1); behaviour unchanged:
    the list of a response class's methods (inspect.getmembers on every call), the JSONPath
    parser EventBridge targets build per event (a yacc table each time), and SQS asking
    every attribute of a queue (counting its messages) to learn one number, per message received."""
    import functools

    import jsonpath_ng.ext
    from moto.core import responses
    from moto.sqs.models import SQSBackend
    from moto.core.utils import unix_time

    original_names = responses.method_names_from_class
    responses.method_names_from_class = functools.lru_cache(maxsize=None)(original_names)
    jsonpath_ng.ext.parse = functools.lru_cache(maxsize=1024)(jsonpath_ng.ext.parse)

    def retained(self: Any, queue_name: str, message: Any) -> bool:
        period = int(self.get_queue(queue_name).message_retention_period)
        return period + message.sent_timestamp / 1000 > unix_time()

    SQSBackend.is_message_valid_based_on_retention_period = retained
    _transactions_undo_items_not_tables()
    from local import moto_speedups

    moto_speedups.apply()   # request-independent work done once (see that module)


def _transactions_undo_items_not_tables() -> None:
    """moto backs up every table a TransactWriteItems touches with a deep copy of the whole
    table (once per item), so each order costs time in proportion to every order ever placed.
    Same all-or-nothing outcome, in proportion to the transaction instead: the tables are not
    copied, the items the transaction names (and each stream's length) are, and a cancelled
    transaction puts exactly those back."""
    import copy
    import types

    from moto.dynamodb import models as ddb_models
    from moto.dynamodb.models.dynamo_type import DynamoType
    from moto.dynamodb.models.table import Table

    real_deepcopy = copy.deepcopy
    # the module's own `copy`: tables pass through uncopied (the undo log below replaces that backup)
    ddb_models.copy = types.SimpleNamespace(
        deepcopy=lambda value, *args: value if isinstance(value, Table) else real_deepcopy(value, *args),
        copy=copy.copy)
    original = ddb_models.DynamoDBBackend.transact_write_items

    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
        saved: list[tuple[Any, Any, Any, Any]] = []
        streams: dict[str, tuple[Any, int]] = {}
        for entry in transact_items[:100]:
            _, op = next(iter(entry.items()))
            table = self.tables.get(op.get("TableName"))
            key = op.get("Key") or op.get("Item")
            if table is None or not key or table.hash_key_attr not in key:
                continue
            hash_value = DynamoType(key[table.hash_key_attr])
            range_value = (DynamoType(key[table.range_key_attr])
                           if table.range_key_attr and table.range_key_attr in key else None)
            if table.range_key_attr and range_value is None:
                continue
            saved.append((table, hash_value, range_value, real_deepcopy(table.get_item(hash_value, range_value))))
            if table.stream_shard is not None and table.name not in streams:
                streams[table.name] = (table.stream_shard, len(table.stream_shard.items))
        try:
            return original(self, transact_items)
        except Exception:
            for table, hash_value, range_value, item in reversed(saved):
                if range_value is not None:
                    bucket = table.items[hash_value]
                    if item is None:
                        bucket.pop(range_value, None)
                    else:
                        bucket[range_value] = item
                    if not bucket:
                        table.items.pop(hash_value, None)
                elif item is None:
                    table.items.pop(hash_value, None)
                else:
                    table.items[hash_value] = item
            for shard, length in streams.values():
                del shard.items[length:]
            raise

    ddb_models.DynamoDBBackend.transact_write_items = transact_write_items


PROFILE_ENV = "LOCAL_AWS_PROFILE"


def _profiler() -> Any:
    """With LOCAL_AWS_PROFILE=<file>, a context that cProfiles each request (CPU time; requests run
    one at a time under the lock, so one profiler serves every thread) and writes the stats to
    <file> every 10 s (read with `python -m pstats <file>`); else a no-op."""
    import contextlib

    path = os.environ.get(PROFILE_ENV)
    if not path:
        return contextlib.nullcontext()
    import cProfile
    import time

    profile = cProfile.Profile(time.process_time)

    def dump_every_10_s() -> None:
        while True:
            time.sleep(10)
            with _lock:
                profile.dump_stats(path)

    threading.Thread(target=dump_every_10_s, name="embedded-aws-profile", daemon=True).start()

    class Profiled:
        def __enter__(self) -> None:
            profile.enable()

        def __exit__(self, *exc: Any) -> None:
            profile.disable()

    return Profiled()


# SQS long polling (ReceiveMessage with WaitTimeSeconds 1..20). moto waits for messages inside the
# request, which would hold up every other call (they run one at a time); so the server
# (local/aws_server.py) runs the receive with WaitTimeSeconds 0 in its turn and, while it finds
# nothing, waits without a turn until a message is added to that queue (moto's Queue.add_message,
# counted below) or 1 s has passed, until the wait is over. The local stack's event delivery
# long-polls instead of asking every queue five times a second (at rest that polling was a quarter
# of a core).
SQS_RECEIVE_TARGET = "AmazonSQS.ReceiveMessage"
_sqs_added: dict[str, int] = {}
# POST: every long poll, waiting or to come, answers at once (the stack is stopping), so the stack's
# delivery threads see its stop flag now and not up to a wait later.
RELEASE_LONG_POLLS_PATH = "/__local/release-long-polls"
_counting_sqs_additions = False


def _count_sqs_additions() -> None:
    """Count, per queue name, the messages moto's queues take (the server wakes the long polls
    waiting on one after each call)."""
    global _counting_sqs_additions
    if _counting_sqs_additions:
        return
    from moto.sqs.models import Queue

    original = Queue.add_message

    def add_message(self: Any, message: Any) -> None:
        original(self, message)
        _sqs_added[self.name] = _sqs_added.get(self.name, 0) + 1

    Queue.add_message = add_message
    _counting_sqs_additions = True


def _long_poll(environ: dict) -> tuple[dict, float, str] | None:
    """For a JSON-protocol ReceiveMessage asking for a 1..20 s wait: (the same request with
    WaitTimeSeconds 0, the wait, the queue's name); else None (moto answers it as it is)."""
    import io
    import json

    if environ.get("HTTP_X_AMZ_TARGET") != SQS_RECEIVE_TARGET:
        return None
    length = int(environ.get("CONTENT_LENGTH") or 0)
    raw = environ["wsgi.input"].read(length) if length else b""
    environ["wsgi.input"] = io.BytesIO(raw)
    try:
        request = json.loads(raw)
        wait = request.get("WaitTimeSeconds")
        queue = request.get("QueueUrl")
    except (ValueError, AttributeError):
        return None
    if type(wait) is not int or not 1 <= wait <= 20 or not isinstance(queue, str):
        return None
    body = json.dumps({**request, "WaitTimeSeconds": 0}).encode()
    once = {**environ, "CONTENT_LENGTH": str(len(body)), "wsgi.input": body}
    return once, float(wait), queue.rstrip("/").rpartition("/")[2]


DYNAMODB_TARGET = "DynamoDB_20120810."
# JSON-protocol calls handed straight to moto's handler: X-Amz-Target prefix -> (the SigV4 signing
# name moto's dispatcher picks the service by, the handler class moto's Flask view dispatches to).
DIRECT_TARGETS = {
    DYNAMODB_TARGET: ("dynamodb", "moto.dynamodb.responses", "DynamoHandler"),
    "AmazonSQS.": ("sqs", "moto.sqs.responses", "SQSResponse"),
    "AWSEvents.": ("events", "moto.events.responses", "EventsHandler"),
}


def dynamodb_direct(app: Any) -> Any:
    """moto's server app with DynamoDB, SQS and EventBridge calls handed straight to moto's handlers.

    A request moto's dispatcher would give one of those services' apps (a POST to `/` with an
    `X-Amz-Target` of the service's JSON API and a SigV4 credential scope naming the service,
    which is how the dispatcher picks the service for a loopback endpoint) goes to the handler's
    `dispatch` as moto's Flask view does (`moto.core.utils.convert_to_flask_response`: the same
    request class, URL, headers and request recorder, a ClientError answered 400, the answer as a
    Flask response with the header flask-cors adds when there is no Origin), without the host
    matching, Flask's request context, URL routing and after-request hooks around it (a fifth of
    the embedded AWS's CPU under the crowd). Everything else, and any such request that does not
    look like that, goes through `app` unchanged. The answers are the same bytes
    (tests/integration/localstack/test_moto_speedups.py)."""
    import importlib

    from botocore.exceptions import ClientError
    from flask import Response
    from moto.moto_api import recorder
    from moto.moto_server.werkzeug_app import BackendRequest

    routes = {prefix: (f"/{service}/aws4_request", getattr(importlib.import_module(module), name).dispatch)
              for prefix, (service, module, name) in DIRECT_TARGETS.items()}

    def direct(environ: dict, start_response: Any) -> Any:
        target = environ.get("HTTP_X_AMZ_TARGET") or ""
        route = routes.get(target[:target.find(".") + 1]) if "." in target else None
        if (route is None or environ.get("REQUEST_METHOD") != "POST" or environ.get("PATH_INFO") != "/"
                or route[0] not in (environ.get("HTTP_AUTHORIZATION") or "")
                or "HTTP_ORIGIN" in environ):   # a browser's call: flask-cors decides its CORS headers
            return app(environ, start_response)
        request = BackendRequest(environ)
        recorder._record_request(request)
        try:
            result = route[1](request, request.raw_url, dict(request.headers))
        except ClientError as exc:
            result = 400, {}, exc.response["Error"]["Message"]
        if len(result) == 3:
            status, headers, content = result
        else:
            status, headers, content = 200, {}, result
        response = Response(response=content, status=status, headers=headers)
        if "Access-Control-Allow-Origin" not in response.headers:
            response.headers["Access-Control-Allow-Origin"] = "*"   # what moto's CORS(app) adds without an Origin
        return response(environ, start_response)

    return direct


def moto_app() -> Any:
    """moto's server app (every service, by host and credential scope), DynamoDB, SQS and
    EventBridge calls straight to their handlers (dynamodb_direct)."""
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

    _count_sqs_additions()
    return dynamodb_direct(DomainDispatcherApplication(create_backend_app))


def make_server(host: str, port: int, state: StateFolder | None, app: Any | None = None, *,
                collect_garbage: Any = None) -> Any:
    """The embedded AWS's server (local/aws_server.py) over moto's app, with the stack's own paths:
    where the Lambda API is, the calls' figures, releasing long polls, a snapshot now."""
    import json

    from local.aws_priority import Turns
    from local.aws_server import AwsHttpServer

    app = app if app is not None else moto_app()

    def no_content() -> tuple[str, list, bytes]:
        return "204 No Content", [], b""

    def only(method: str, handler: Any) -> Any:
        def checked(environ: dict, body: bytes) -> Any:
            if environ["REQUEST_METHOD"] != method:
                return "405 Method Not Allowed", [("Allow", method)], b""
            return handler(environ, body)
        return checked

    def lambda_endpoint(environ: dict, body: bytes) -> Any:
        _lambda_endpoint[:] = [body.decode().strip()] if body else []
        return no_content()

    def figures(environ: dict, body: bytes) -> Any:
        return "200 OK", [("Content-Type", "application/json")], json.dumps(server.turns.stats()).encode()

    def release(environ: dict, body: bytes) -> Any:
        server.release_long_polls()
        return no_content()

    async def compact(environ: dict, body: bytes) -> Any:
        if state is not None:   # the stack asks once its resources exist (a KMS key's material is
            await server.call(kind_of(environ), state.compact)   # random: it must come back from a snapshot)
        return no_content()

    server = AwsHttpServer(
        host, port, app, lock=_lock, state=state, journalled=is_journalled, long_poll=_long_poll,
        sqs_added=_sqs_added, profiled=_profiler(), collect_garbage=collect_garbage,
        turns=Turns(_lock.aging_seconds, float(os.environ.get(API_GAP_ENV, DEFAULT_API_GAP_SECONDS))),
        control={LAMBDA_ENDPOINT_PATH: only("POST", lambda_endpoint), PRIORITY_PATH: only("GET", figures),
                 RELEASE_LONG_POLLS_PATH: only("POST", release), COMPACT_PATH: only("POST", compact)})
    return server


NO_AUTOMATIC_FULL_COLLECTIONS = 2**31 - 1   # gc threshold2: gen1 collections before a full one


def serve(host: str, port: int, state_dir: str | None, fresh: bool) -> None:
    """`python -m local.embedded_aws`: print READY <url>; exit when stdin closes (the stack is gone)."""
    import gc
    import logging

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    speed_up_moto()
    # Step Functions executes the ASL files; their Lambda tasks go to the local Lambda API.
    from local import stepfunctions

    stepfunctions.enable_execution()
    stepfunctions.route_lambda_tasks(lambda: _lambda_endpoint[0] if _lambda_endpoint else None)
    state = StateFolder(Path(state_dir), fresh=fresh) if state_dir else None
    app = moto_app()
    if state is not None:
        loaded, replayed = state.restore(app)
        state.compact()
        print(f"STATE {state.path} snapshot={'yes' if loaded else 'no'} replayed={replayed}", flush=True)
    # moto keeps every item as objects on one heap, so the interpreter's full collections (each
    # scanning all of it) paused the server 80 to 330 ms each under a crowd. What is loaded now
    # (moto, botocore's models, the restored state) is frozen out of every collection, automatic
    # full collections are off, and the server runs one when the API has been quiet a while.
    gc.collect()
    gc.freeze()
    young, middle, _ = gc.get_threshold()
    gc.set_threshold(young, middle, NO_AUTOMATIC_FULL_COLLECTIONS)
    server = make_server(host, port, state, app, collect_garbage=gc.collect)
    server.start()
    print(f"READY {server.url}", flush=True)
    sys.stdin.read()   # returns when the stack closes our stdin, or dies
    server.stop()
    if state is not None:
        with _lock:
            state.compact()   # durable (fsync, rename, fsync of the folder) before we go
    # Nothing else to keep: skip the interpreter's teardown, which freed moto's whole heap object by
    # object (seconds after a test module's run, all of it spent before the stack could exit).
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


class EmbeddedAwsProcess:
    """The embedded AWS in a child process (see above); `state_dir` keeps its state across restarts."""

    def __init__(self, host: str = "127.0.0.1", port: int = 4566, *, state_dir: str | Path | None = None,
                 fresh: bool = False) -> None:
        self.host = host
        self.port = port
        self.state_dir = str(state_dir) if state_dir else None
        self.fresh = fresh
        self._proc = None
        self.state_line = ""

    def start(self) -> str:
        import subprocess

        cmd = [sys.executable, "-m", "local.embedded_aws", "--host", self.host, "--port", str(self.port)]
        if self.state_dir:
            cmd += ["--state-dir", self.state_dir]
        if self.fresh:
            cmd.append("--fresh")
        root = Path(__file__).resolve().parent.parent
        self._proc = subprocess.Popen(cmd, cwd=root, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        lines = []
        for line in self._proc.stdout:
            lines.append(line)
            if line.startswith("STATE "):
                self.state_line = line.strip()
            if line.startswith("READY "):
                self.port = int(line.split()[1].rpartition(":")[2])
                return self.url
        self._proc.wait()
        raise OSError(f"embedded AWS did not start (exit {self._proc.returncode}): {''.join(lines)}")

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def set_lambda_endpoint(self, url: str) -> None:
        """Where the state machines' Lambda tasks go (the local Lambda Invoke API)."""
        import urllib.request

        urllib.request.urlopen(urllib.request.Request(self.url + LAMBDA_ENDPOINT_PATH, data=url.encode(),
                                                      method="POST"), timeout=30).close()

    def compact(self) -> None:
        """Snapshot the state now (and empty the journal)."""
        import urllib.request

        urllib.request.urlopen(urllib.request.Request(self.url + COMPACT_PATH, method="POST"), timeout=120).close()

    def release_long_polls(self) -> None:
        """Answer every SQS long poll now, and each one after it at once (the stack is stopping)."""
        import urllib.request

        urllib.request.urlopen(urllib.request.Request(self.url + RELEASE_LONG_POLLS_PATH, data=b"",
                                                      method="POST"), timeout=30).close()

    def stop(self) -> None:
        if self._proc is None:
            return
        try:
            self._proc.stdin.close()   # the child snapshots its state and exits
            self._proc.wait(timeout=60)
        except Exception:  # noqa: BLE001 - never leave it behind
            self._proc.kill()
            self._proc.wait()
        self._proc = None


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(description="The local stack's embedded AWS (moto) in its own process.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=4566)
    parser.add_argument("--state-dir", help="keep state here across restarts (snapshot + journal)")
    parser.add_argument("--fresh", action="store_true", help="forget the state folder's contents first")
    args = parser.parse_args(argv)
    serve(args.host, args.port, args.state_dir, args.fresh)
    return 0


if __name__ == "__main__":
    # Run the one `local.embedded_aws` module (not a second copy as __main__), so the server and
    # moto's patches share its globals (the lock, the Lambda endpoint, the SQS counts).
    from local.embedded_aws import main as module_main

    sys.exit(module_main())

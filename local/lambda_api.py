"""The Lambda Invoke API on loopback, for functions that invoke other functions.

Speaks the REST API boto3's `lambda` client calls
(`POST /2015-03-31/functions/{FunctionName}/invocations`, the
`X-Amz-Invocation-Type` header) so the calling code is the same as on AWS
(`AWS_ENDPOINT_URL_LAMBDA=<url>`), and runs the named function's real handler
through local.lambda_runtime:

- `Event`: 202 at once, the handler runs on a worker thread (Lambda's
  asynchronous invocation; a failure is logged, with no retry, as our
  functions are configured on AWS);
- `RequestResponse`: 200 with the handler's JSON result, or
  `X-Amz-Function-Error: Unhandled` with the error;
- `DryRun`: 204.

Function names may be the folder name (`realtime_batcher`), the physical name
CDK gives it (`<prefix>-realtime-batcher`) or its ARN. Unknown names are 404
`ResourceNotFoundException`, as on AWS.
"""
from __future__ import annotations

import json
import logging
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable
from urllib.parse import unquote

from local.lambda_runtime import FUNCTIONS_DIR
from local.loopback import LoopbackServer, Reply, Request

log = logging.getLogger("local.lambda_api")
PATH_PREFIX = "/2015-03-31/functions/"
Invoke = Callable[[str, dict[str, Any]], Any]


def _error(status: int, kind: str, message: str) -> Reply:
    return Reply.json({"Type": "User", "message": message}, status, {"x-amzn-ErrorType": kind}, separators=None)


def folder_for(function_name: str, prefix: str) -> str | None:
    """The functions/ folder a name, physical name or ARN refers to."""
    name = function_name.split(":function:", 1)[-1].split(":", 1)[0]
    if name.startswith(prefix + "-"):
        name = name[len(prefix) + 1:].replace("-", "_")
    return name if name and (FUNCTIONS_DIR / name / "handler.py").is_file() else None


class LocalLambdaApi:
    def __init__(self, *, host: str = "127.0.0.1", port: int = 0, prefix: str | None = None,
                 invoke: Invoke | None = None, workers: int = 32) -> None:
        from local.resources import LOCAL_PREFIX

        self.host, self.port = host, port
        self.prefix = prefix or LOCAL_PREFIX
        self._invoke = invoke
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="lambda-async")
        self._server: LoopbackServer | None = None
        self.stats: dict[str, int] = {"event": 0, "request_response": 0, "failed": 0}
        self.url = ""

    def invoke(self, folder: str, event: dict[str, Any]) -> Any:
        if self._invoke is not None:
            return self._invoke(folder, event)
        from local.lambda_runtime import invoke

        return invoke(folder, event)

    def _run_async(self, folder: str, event: dict[str, Any]) -> None:
        try:
            self.invoke(folder, event)
        except Exception:  # noqa: BLE001 - an asynchronous invocation's failure is only logged
            self.stats["failed"] += 1
            log.exception("asynchronous invocation of %s failed", folder)

    def start(self) -> str:
        self._server = LoopbackServer(self._answer, name="lambda-api", host=self.host, port=self.port,
                                      server_version="lambda", timeout=None)
        self.url = self._server.start()
        self.port = self._server.port
        return self.url

    def _answer(self, request: Request) -> Reply:
        reply = self._route(request)
        reply.headers.setdefault("Content-Type", "application/json")
        reply.headers["x-amzn-RequestId"] = str(uuid.uuid4())
        return reply

    def _route(self, request: Request) -> Reply:
        path = request.path
        if request.method != "POST" or not (path.startswith(PATH_PREFIX) and path.endswith("/invocations")):
            return _error(404, "ResourceNotFoundException", "no such operation")
        name = unquote(path[len(PATH_PREFIX):-len("/invocations")])
        folder = folder_for(name, self.prefix)
        if folder is None:
            return _error(404, "ResourceNotFoundException", f"Function not found: {name}")
        try:
            event = json.loads(request.body or b"{}")
        except ValueError:
            return _error(400, "InvalidRequestContentException", "Could not parse request body into json")
        kind = request.headers.get("x-amz-invocation-type") or "RequestResponse"
        if kind == "DryRun":
            return Reply(204)
        if kind == "Event":
            self.stats["event"] += 1
            self._pool.submit(self._run_async, folder, event)
            return Reply(202)
        if kind != "RequestResponse":
            return _error(400, "InvalidParameterValueException", f"bad invocation type {kind}")
        self.stats["request_response"] += 1
        try:
            result = self.invoke(folder, event)
        except Exception as exc:  # noqa: BLE001 - reported as Lambda reports it
            self.stats["failed"] += 1
            body = json.dumps({"errorMessage": str(exc), "errorType": type(exc).__name__}).encode()
            return Reply(200, body, {"X-Amz-Function-Error": "Unhandled", "X-Amz-Executed-Version": "$LATEST"})
        return Reply(200, json.dumps(result).encode(), {"X-Amz-Executed-Version": "$LATEST"})

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None
        self._pool.shutdown(wait=False, cancel_futures=True)

    def __enter__(self) -> "LocalLambdaApi":
        self.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()

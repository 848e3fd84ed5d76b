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
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler
from typing import Any, Callable
from urllib.parse import unquote, urlsplit

from local.lambda_runtime import FUNCTIONS_DIR
from local.loopback import LoopbackHTTPServer

log = logging.getLogger("local.lambda_api")
PATH_PREFIX = "/2015-03-31/functions/"
Invoke = Callable[[str, dict[str, Any]], Any]


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
        self._server: LoopbackHTTPServer | None = None
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
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _answer(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.send_header("x-amzn-RequestId", str(uuid.uuid4()))
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                self.end_headers()
                if body:
                    self.wfile.write(body)

            def _error(self, status: int, kind: str, message: str) -> None:
                self._answer(status, json.dumps({"Type": "User", "message": message}).encode(),
                             {"x-amzn-ErrorType": kind})

            def do_POST(self) -> None:  # noqa: N802
                path = urlsplit(self.path).path
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if not (path.startswith(PATH_PREFIX) and path.endswith("/invocations")):
                    self._error(404, "ResourceNotFoundException", "no such operation")
                    return
                name = unquote(path[len(PATH_PREFIX):-len("/invocations")])
                folder = folder_for(name, owner.prefix)
                if folder is None:
                    self._error(404, "ResourceNotFoundException", f"Function not found: {name}")
                    return
                try:
                    event = json.loads(raw or b"{}")
                except ValueError:
                    self._error(400, "InvalidRequestContentException", "Could not parse request body into json")
                    return
                kind = self.headers.get("X-Amz-Invocation-Type") or "RequestResponse"
                if kind == "DryRun":
                    self._answer(204)
                elif kind == "Event":
                    owner.stats["event"] += 1
                    owner._pool.submit(owner._run_async, folder, event)
                    self._answer(202)
                elif kind == "RequestResponse":
                    owner.stats["request_response"] += 1
                    try:
                        result = owner.invoke(folder, event)
                    except Exception as exc:  # noqa: BLE001 - reported as Lambda reports it
                        owner.stats["failed"] += 1
                        body = json.dumps({"errorMessage": str(exc), "errorType": type(exc).__name__}).encode()
                        self._answer(200, body, {"X-Amz-Function-Error": "Unhandled",
                                                 "X-Amz-Executed-Version": "$LATEST"})
                        return
                    self._answer(200, json.dumps(result).encode(), {"X-Amz-Executed-Version": "$LATEST"})
                else:
                    self._error(400, "InvalidParameterValueException", f"bad invocation type {kind}")

        self._server = LoopbackHTTPServer((self.host, self.port), Handler)
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, name="lambda-api", daemon=True).start()
        self.url = f"http://{self.host}:{self.port}"
        return self.url

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        self._pool.shutdown(wait=False, cancel_futures=True)

    def __enter__(self) -> "LocalLambdaApi":
        self.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()

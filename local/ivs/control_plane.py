"""The IVS control plane: the REST-JSON API that boto3's ``ivs`` client calls.

Point a client at it with ``endpoint_url`` (or ``AWS_ENDPOINT_URL_IVS``); every
operation is ``POST /<OperationName>`` with a JSON body, as in botocore's
model (``botocore/data/ivs/2020-07-14/service-2.json``). Errors carry the
error type in the ``x-amzn-ErrorType`` header and ``{"exceptionMessage": ...}``
in the body, the way IVS answers, so botocore raises the modeled exception
class (``client.exceptions.ResourceNotFoundException`` ...). Requests are not
authenticated (loopback only).

Implemented: CreateChannel, GetChannel, BatchGetChannel, UpdateChannel,
ListChannels, DeleteChannel, CreateStreamKey, GetStreamKey, BatchGetStreamKey,
ListStreamKeys, DeleteStreamKey, GetStream, ListStreams, StopStream,
PutMetadata, ImportPlaybackKeyPair, GetPlaybackKeyPair, ListPlaybackKeyPairs,
DeletePlaybackKeyPair, CreateRecordingConfiguration,
GetRecordingConfiguration, ListRecordingConfigurations,
DeleteRecordingConfiguration. Other operations answer 501
``UnknownOperationException``.

The same server takes the ingest server's callbacks (nginx-rtmp
``on_publish``, ``on_publish_done``, ``on_update``) under ``/__standin/rtmp/``
and offers ``GET /__standin/health``, ``GET /__standin/events`` (recent
events) and ``GET /__standin/metadata?channelArn=...`` (recent PutMetadata).
"""
from __future__ import annotations

import logging
from typing import Callable

from local.loopback import LoopbackServer, Reply, Request
from local.ivs.events import EventPump
from local.ivs.realtime import OPERATIONS as REALTIME_OPERATIONS, RealtimeState
from local.ivs.state import IvsError, IvsState

log = logging.getLogger("local.ivs")

RTMP_APPLICATION = "app"
STAGE_APPLICATION = "stage"          # IVS real-time: participants publish with their token (local.ivs.realtime)
CALLBACK_PREFIX = "/__standin/rtmp/"
COMPOSER_ARG = "lc_composer"         # rtmp://.../app/<key>?lc_composer=<composition ARN>: nginx passes it on

# operation -> (state method name, HTTP status on success; 204 means no body)
OPERATIONS: dict[str, tuple[str, int]] = {
    "CreateChannel": ("create_channel", 200),
    "GetChannel": ("get_channel", 200),
    "BatchGetChannel": ("batch_get_channel", 200),
    "UpdateChannel": ("update_channel", 200),
    "ListChannels": ("list_channels", 200),
    "DeleteChannel": ("delete_channel", 204),
    "CreateStreamKey": ("create_stream_key", 200),
    "GetStreamKey": ("get_stream_key", 200),
    "BatchGetStreamKey": ("batch_get_stream_key", 200),
    "ListStreamKeys": ("list_stream_keys", 200),
    "DeleteStreamKey": ("delete_stream_key", 204),
    "GetStream": ("get_stream", 200),
    "ListStreams": ("list_streams", 200),
    "StopStream": ("stop_stream", 200),
    "PutMetadata": ("put_metadata", 204),
    "ImportPlaybackKeyPair": ("import_playback_key_pair", 200),
    "GetPlaybackKeyPair": ("get_playback_key_pair", 200),
    "ListPlaybackKeyPairs": ("list_playback_key_pairs", 200),
    "DeletePlaybackKeyPair": ("delete_playback_key_pair", 200),
    "CreateRecordingConfiguration": ("create_recording_configuration", 200),
    "GetRecordingConfiguration": ("get_recording_configuration", 200),
    "ListRecordingConfigurations": ("list_recording_configurations", 200),
    "DeleteRecordingConfiguration": ("delete_recording_configuration", 204),
}


def error_response(code: str, message: str, status: int) -> Reply:
    # botocore's rest-json parser takes the code from x-amzn-ErrorType; the
    # modeled member is exceptionMessage, "message" fills Error.Message.
    return Reply.json({"exceptionMessage": message, "message": message}, status,
                         {"x-amzn-ErrorType": code, "x-amzn-RequestId": _request_id()})


def failure(request: Request, exc: Exception) -> Reply:
    """A stand-in bug must show (logged, and a 500 botocore understands), not hang the client."""
    log.exception("IVS stand-in failed on %s %s", request.method, request.path)
    return Reply.json({"__type": "InternalServerException",
                          "exceptionMessage": f"stand-in failure: {type(exc).__name__}: {exc}"}, 500,
                         {"x-amzn-ErrorType": "InternalServerException"})


def ivs_server(name: str, handle: Callable[[Request], Reply], *, host: str, port: int) -> LoopbackServer:
    # URLs carry playback tokens and stream keys: the server logs nothing.
    return LoopbackServer(handle, name=f"ivs-{name}", host=host, port=port, server_version="local-ivs",
                          on_error=failure)


def _request_id() -> str:
    import uuid

    return str(uuid.uuid4())


class ControlPlane:
    def __init__(self, state: IvsState, pump: EventPump, *, host: str = "127.0.0.1", port: int = 0,
                 on_publish_accepted: Callable[[], None] | None = None,
                 realtime: RealtimeState | None = None) -> None:
        self.state = state
        self.realtime = realtime
        self.pump = pump
        self._on_publish_accepted = on_publish_accepted
        self.server = ivs_server("control", self.handle, host=host, port=port)

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def callback_url(self) -> str:
        return self.server.url + CALLBACK_PREFIX

    def start(self) -> str:
        return self.server.start()

    def stop(self) -> None:
        self.server.stop()

    # ------------------------------------------------------------------ dispatch
    def handle(self, request: Request) -> Reply:
        if request.path.startswith(CALLBACK_PREFIX):
            return self._rtmp_callback(request.path[len(CALLBACK_PREFIX):], request.form())
        if request.path.startswith("/__standin/"):
            return self._control(request)
        operation = request.path.strip("/")
        target = self.state
        if self.realtime is not None and operation in REALTIME_OPERATIONS:
            target, (method, status) = self.realtime, REALTIME_OPERATIONS[operation]
        elif operation in OPERATIONS:
            method, status = OPERATIONS[operation]
        else:
            return error_response("UnknownOperationException",
                                  f"{operation or '/'} is not implemented by the local IVS stand-in", 501)
        if request.method != "POST":
            return error_response("ValidationException", f"{operation} takes POST", 400)
        try:
            body = request.json()
        except ValueError:
            return error_response("ValidationException", "the request body is not JSON", 400)
        if not isinstance(body, dict):
            return error_response("ValidationException", "the request body must be a JSON object", 400)
        try:
            result = getattr(target, method)(body)
        except IvsError as exc:
            return error_response(exc.code, exc.message, exc.status)
        headers = {"x-amzn-RequestId": _request_id()}
        if status == 204:
            return Reply(204, b"", headers)
        return Reply.json(result if result is not None else {}, status, headers)

    def _control(self, request: Request) -> Reply:
        action = request.path[len("/__standin/"):]
        if action == "health":
            return Reply.json({"ok": True, "standin": "ivs"})
        if action == "events":
            return Reply.json({"events": list(self.pump.recent)})
        if action == "metadata":
            return Reply.json({"metadata": self.state.metadata(request.query.get("channelArn", ""))})
        return Reply.json({"error": "no such control endpoint", "path": request.path}, 404)

    # ------------------------------------------------------------------ nginx-rtmp callbacks
    def _rtmp_callback(self, call: str, form: dict[str, str]) -> Reply:
        """nginx-rtmp notify callbacks: any 2xx lets the encoder go on, anything else drops it."""
        name, client_id = form.get("name", ""), form.get("clientid", "")
        if form.get("app") == STAGE_APPLICATION and self.realtime is not None:
            return self._stage_callback(call, name, client_id, form)
        if call == "on_publish":
            if form.get("app") != RTMP_APPLICATION:
                return Reply.text(f"publish to rtmp://host:port/{RTMP_APPLICATION}/<stream key>", 404)
            try:
                # a stage composer (local.ivs.realtime) marks its publish: it may take the channel over
                self.state.authorize_publish(name, client_id, composer=form.get(COMPOSER_ARG, ""))
            except IvsError as exc:
                log.warning("IVS ingest: publish refused (%s) from %s", exc.message, form.get("addr", "?"))
                return Reply.text(exc.message, 403)
            if self._on_publish_accepted:
                self._on_publish_accepted()
            return Reply.text("ok", 200)
        if call == "on_publish_done":
            self.state.publish_done(name, client_id)
            return Reply.text("ok", 200)
        if call == "on_update":
            if form.get("call") == "update_publish" and not self.state.keep_publishing(name, client_id):
                return Reply.text("stream stopped (StopStream)", 403)
            return Reply.text("ok", 200)
        return Reply.text("unknown callback", 404)


    def _stage_callback(self, call: str, token: str, client_id: str, form: dict[str, str]) -> Reply:
        """A participant's RTMP publish into a stage: their participant token is the stream key. Plays
        (the composer reading publishers back) are not asked about: nginx-rtmp calls on_play, not configured."""
        if call == "on_publish":
            try:
                self.realtime.authorize_publish(token, client_id)
            except IvsError as exc:
                log.warning("IVS stage ingest: publish refused (%s) from %s", exc.message, form.get("addr", "?"))
                return Reply.text(exc.message, 403)
            return Reply.text("ok", 200)
        if call == "on_publish_done":
            self.realtime.publish_done(token, client_id)
            return Reply.text("ok", 200)
        if call == "on_update":
            if form.get("call") == "update_publish" and not self.realtime.keep_publishing(token, client_id):
                return Reply.text("participant disconnected", 403)
            return Reply.text("ok", 200)
        return Reply.text("unknown callback", 404)

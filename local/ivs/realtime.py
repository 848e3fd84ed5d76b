"""The IVS real-time (``ivs-realtime``) stand-in: stages, participant tokens, RTMP
publishing into a stage, and server-side composition with ffmpeg.

Control plane: the same REST-JSON server as the IVS stand-in answers the
``ivs-realtime`` operations below (``POST /<OperationName>``, botocore's
``ivs-realtime/2020-07-14`` model), so boto3 reaches it with
``AWS_ENDPOINT_URL_IVS_REALTIME=<control URL>``. Implemented: CreateStage,
GetStage, ListStages, DeleteStage, CreateParticipantToken,
DisconnectParticipant, StartComposition, StopComposition, GetComposition,
ListCompositions, StartParticipantReplication, StopParticipantReplication.

Media: a participant publishes RTMP to the stage's ``endpoints.rtmp``
(``rtmp://127.0.0.1:<port>/stage/``) with its participant token as the stream
key. nginx asks the control plane (``on_publish``): the token must exist, be
unexpired, carry PUBLISH, not be disconnected, and not be in use by another
connection; at most 12 publishers per stage. StartComposition runs one ffmpeg
that plays every publisher of the stage from nginx, lays them out (grid: xstack
of equal tiles; pip: the featured participant full frame, the next one small in
the bottom-right corner) at 1280x720, and pushes the picture to the destination
channel's RTMP ingest with the channel's stream key: the room's HLS shows the
composition. The composer restarts when publishers come or go.

Not emulated: WebRTC (subscribing, the browser SDK's publish), WHIP, simulcast
layers, participant recording, encoder configurations and S3 destinations, the
events endpoint; tokens are opaque random strings, not JWTs.
"""
from __future__ import annotations

import logging
import os
import re
import secrets
import shutil
import signal
import subprocess
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from local.ivs.state import IvsError, _iso, _rand

log = logging.getLogger("local.ivs.realtime")

STAGE_UPDATE = "IVS Stage Update"
COMPOSITION_STATE_CHANGE = "IVS Composition State Change"
PUBLISHERS_PER_STAGE = 12            # IVS real-time quota: publishers per stage (not adjustable)
STAGES_PER_REGION = 100              # IVS real-time quota: stages (default, adjustable)
COMPOSITIONS_PER_ACCOUNT = 5         # IVS real-time quota: concurrent compositions (default, adjustable)
COMPOSITION_SIZE = (1280, 720)
_STAGE_ARN = re.compile(r"^arn:aws:ivs:[a-z0-9-]+:[0-9]+:stage/[a-zA-Z0-9-]+$")
_CHANNEL_ARN = re.compile(r"^arn:aws:ivs:[a-z0-9-]+:[0-9]+:channel/[a-zA-Z0-9-]+$")
_CAPABILITIES = {"PUBLISH", "SUBSCRIBE"}

OPERATIONS: dict[str, tuple[str, int]] = {
    "CreateStage": ("create_stage", 200),
    "GetStage": ("get_stage", 200),
    "ListStages": ("list_stages", 200),
    "DeleteStage": ("delete_stage", 200),
    "CreateParticipantToken": ("create_participant_token", 200),
    "DisconnectParticipant": ("disconnect_participant", 200),
    "StartComposition": ("start_composition", 200),
    "StopComposition": ("stop_composition", 200),
    "GetComposition": ("get_composition", 200),
    "ListCompositions": ("list_compositions", 200),
    "StartParticipantReplication": ("start_participant_replication", 200),
    "StopParticipantReplication": ("stop_participant_replication", 200),
}


@dataclass
class Participant:
    participant_id: str
    token: str
    stage_arn: str
    user_id: str
    attributes: dict[str, str]
    capabilities: list[str]
    expires: float
    state: str = "issued"            # issued | publishing | left | disconnected
    client_id: str = ""


@dataclass
class StageState:
    arn: str
    name: str
    tags: dict[str, str]
    session_id: str = ""
    replicas: set = field(default_factory=set)   # (source stage, participant) replicated into this stage


@dataclass
class Composition:
    arn: str
    stage_arn: str
    layout: dict
    channel_arn: str
    token: str
    state: str = "STARTING"
    start: float = 0.0
    process: subprocess.Popen | None = None
    inputs: tuple = ()


class RealtimeState:
    def __init__(self, *, region: str, account_id: str, rtmp_base: Callable[[], str],
                 channel_ingest: Callable[[str], str | None], emit: Callable[[str, list, dict], None],
                 clock: Callable[[], float] = time.time) -> None:
        self.region, self.account_id = region, account_id
        self._rtmp_base = rtmp_base                   # rtmp://127.0.0.1:<port>/
        self._channel_ingest = channel_ingest         # channel ARN -> rtmp URL with its stream key, or None
        self._emit = emit
        self._clock = clock
        self._lock = threading.RLock()
        self.stages: dict[str, StageState] = {}
        self.participants: dict[str, Participant] = {}        # participant id -> participant
        self.by_token: dict[str, str] = {}                    # token -> participant id
        self.compositions: dict[str, Composition] = {}
        self.idempotency: dict[tuple[str, str], str] = {}     # (stage, token) -> composition ARN
        self.ffmpeg = shutil.which("ffmpeg")

    def _arn(self, kind: str) -> str:
        return f"arn:aws:ivs:{self.region}:{self.account_id}:{kind}/{_rand(12)}"

    def _stage(self, arn: Any, member: str = "arn") -> StageState:
        if not isinstance(arn, str) or not _STAGE_ARN.match(arn):
            raise IvsError("ValidationException", f"{member} is not a stage ARN")
        stage = self.stages.get(arn)
        if stage is None:
            raise IvsError("ResourceNotFoundException", "stage not found")
        return stage

    def _stage_shape(self, s: StageState) -> dict[str, Any]:
        base = self._rtmp_base()
        return {"arn": s.arn, "name": s.name, "tags": dict(s.tags), "activeSessionId": s.session_id or None,
                "endpoints": {"rtmp": base + "stage/", "rtmps": base + "stage/", "whip": "", "events": ""}}

    # ------------------------------------------------------------------ stages
    def create_stage(self, body: dict) -> dict[str, Any]:
        name = body.get("name", "")
        if not isinstance(name, str) or not re.match(r"^[a-zA-Z0-9-_]{0,128}$", name):
            raise IvsError("ValidationException", "name must be [a-zA-Z0-9-_]{0,128}")
        with self._lock:
            if len(self.stages) >= STAGES_PER_REGION:
                raise IvsError("ServiceQuotaExceededException", f"at most {STAGES_PER_REGION} stages")
            stage = StageState(arn=self._arn("stage"), name=name, tags=dict(body.get("tags") or {}))
            self.stages[stage.arn] = stage
            tokens = [self._new_token(stage, cfg) for cfg in body.get("participantTokenConfigurations") or []]
            return {"stage": self._stage_shape(stage), "participantTokens": tokens}

    def get_stage(self, body: dict) -> dict[str, Any]:
        with self._lock:
            return {"stage": self._stage_shape(self._stage(body.get("arn")))}

    def list_stages(self, body: dict) -> dict[str, Any]:
        with self._lock:
            return {"stages": [{"arn": s.arn, "name": s.name, "tags": dict(s.tags),
                                "activeSessionId": s.session_id or None} for s in self.stages.values()]}

    def delete_stage(self, body: dict) -> dict[str, Any]:
        with self._lock:
            stage = self._stage(body.get("arn"))
            if any(c.stage_arn == stage.arn and c.state in ("STARTING", "ACTIVE") for c in self.compositions.values()):
                raise IvsError("ConflictException", "the stage has an active composition")
            for p in self.participants.values():
                if p.stage_arn == stage.arn and p.state in ("issued", "publishing"):
                    p.state = "disconnected"
            del self.stages[stage.arn]
        return {}

    # ------------------------------------------------------------------ tokens
    def _new_token(self, stage: StageState, body: dict) -> dict[str, Any]:
        duration = body.get("duration", 720)
        if not isinstance(duration, int) or not 1 <= duration <= 20160:
            raise IvsError("ValidationException", "duration is 1..20160 minutes")
        caps = body.get("capabilities") or ["PUBLISH", "SUBSCRIBE"]
        if not isinstance(caps, list) or not set(caps) <= _CAPABILITIES:
            raise IvsError("ValidationException", "capabilities are PUBLISH and SUBSCRIBE")
        attributes = body.get("attributes") or {}
        if len(repr(attributes)) > 1024:
            raise IvsError("ValidationException", "attributes are at most 1 KB")
        p = Participant(participant_id=_rand(12), token=secrets.token_urlsafe(32), stage_arn=stage.arn,
                        user_id=str(body.get("userId") or ""), attributes=dict(attributes), capabilities=list(caps),
                        expires=self._clock() + duration * 60)
        self.participants[p.participant_id] = p
        self.by_token[p.token] = p.participant_id
        return {"participantId": p.participant_id, "token": p.token, "userId": p.user_id,
                "attributes": dict(p.attributes), "duration": duration, "capabilities": list(caps),
                "expirationTime": _iso(p.expires)}

    def create_participant_token(self, body: dict) -> dict[str, Any]:
        with self._lock:
            return {"participantToken": self._new_token(self._stage(body.get("stageArn"), "stageArn"), body)}

    def disconnect_participant(self, body: dict) -> dict[str, Any]:
        with self._lock:
            stage = self._stage(body.get("stageArn"), "stageArn")
            p = self.participants.get(str(body.get("participantId") or ""))
            if p is None or p.stage_arn != stage.arn:
                raise IvsError("ResourceNotFoundException", "participant not found")
            was_publishing = p.state == "publishing"
            p.state = "disconnected"     # nginx drops the encoder at its next on_update
        if was_publishing:
            self._left(p, "Participant Left")
        return {}

    # ------------------------------------------------------------------ RTMP publishing (nginx callbacks)
    def authorize_publish(self, token: str, client_id: str) -> Participant:
        with self._lock:
            p = self.participants.get(self.by_token.get(token, ""))
            if p is None or p.stage_arn not in self.stages:
                raise IvsError("AccessDeniedException", "unknown participant token")
            if p.expires <= self._clock():
                raise IvsError("AccessDeniedException", "the participant token has expired")
            if "PUBLISH" not in p.capabilities:
                raise IvsError("AccessDeniedException", "the participant token cannot publish")
            if p.state != "issued":
                raise IvsError("AccessDeniedException", f"the participant token was already used ({p.state})")
            publishing = [q for q in self.participants.values()
                          if q.stage_arn == p.stage_arn and q.state == "publishing"]
            if len(publishing) >= PUBLISHERS_PER_STAGE:
                raise IvsError("ServiceQuotaExceededException", "the stage has 12 publishers")
            p.state, p.client_id = "publishing", client_id
            stage = self.stages[p.stage_arn]
            if not stage.session_id:
                stage.session_id = "st-" + _rand(13)
        self._emit(STAGE_UPDATE, [p.stage_arn], {"session_id": stage.session_id, "event_name": "Participant Published",
                                                 "user_id": p.user_id, "participant_id": p.participant_id})
        self._recompose(p.stage_arn)
        return p

    def keep_publishing(self, token: str, client_id: str) -> bool:
        with self._lock:
            p = self.participants.get(self.by_token.get(token, ""))
            return p is not None and p.state == "publishing" and p.client_id == client_id

    def publish_done(self, token: str, client_id: str) -> None:
        with self._lock:
            p = self.participants.get(self.by_token.get(token, ""))
            if p is None or p.client_id != client_id or p.state != "publishing":
                return
            p.state = "left"
        self._left(p, "Participant Left")

    def _left(self, p: Participant, name: str) -> None:
        stage = self.stages.get(p.stage_arn)
        self._emit(STAGE_UPDATE, [p.stage_arn], {"session_id": stage.session_id if stage else "",
                                                 "event_name": name, "user_id": p.user_id,
                                                 "participant_id": p.participant_id})
        self._recompose(p.stage_arn)

    def publishers(self, stage_arn: str) -> list[Participant]:
        """The stage's publishers in composition order: `order` attribute, then arrival."""
        with self._lock:
            found = [p for p in self.participants.values() if p.stage_arn == stage_arn and p.state == "publishing"]
        return sorted(found, key=lambda p: (p.attributes.get("order", "9"), p.participant_id))

    # ------------------------------------------------------------------ compositions
    def start_composition(self, body: dict) -> dict[str, Any]:
        with self._lock:
            stage = self._stage(body.get("stageArn"), "stageArn")
            token = body.get("idempotencyToken") or ""
            if token and (stage.arn, token) in self.idempotency:
                return {"composition": self._composition_shape(self.compositions[self.idempotency[stage.arn, token]])}
            destinations = body.get("destinations") or []
            if not isinstance(destinations, list) or not 1 <= len(destinations) <= 2:
                raise IvsError("ValidationException", "destinations: 1 or 2")
            channel = ((destinations[0] or {}).get("channel") or {}).get("channelArn", "")
            if not _CHANNEL_ARN.match(str(channel)):
                raise IvsError("ValidationException", "the stand-in composes into a channel destination only")
            if self._channel_ingest(channel) is None:
                raise IvsError("ResourceNotFoundException", "channel not found")
            if any(c.stage_arn == stage.arn and c.state in ("STARTING", "ACTIVE") for c in self.compositions.values()):
                raise IvsError("ConflictException", "the stage already has an active composition")
            if sum(c.state in ("STARTING", "ACTIVE") for c in self.compositions.values()) >= COMPOSITIONS_PER_ACCOUNT:
                raise IvsError("ServiceQuotaExceededException", f"at most {COMPOSITIONS_PER_ACCOUNT} compositions")
            layout = body.get("layout") or {"grid": {}}
            comp = Composition(arn=self._arn("composition"), stage_arn=stage.arn, layout=layout, channel_arn=channel,
                               token=token, start=self._clock())
            self.compositions[comp.arn] = comp
            if token:
                self.idempotency[stage.arn, token] = comp.arn
        self._recompose(stage.arn)
        return {"composition": self._composition_shape(comp)}

    def _composition_shape(self, c: Composition) -> dict[str, Any]:
        return {"arn": c.arn, "stageArn": c.stage_arn, "state": c.state, "layout": c.layout,
                "destinations": [{"id": "d-" + c.arn[-12:], "state": c.state,
                                  "configuration": {"name": "room-channel", "channel": {"channelArn": c.channel_arn}}}],
                "tags": {}, "startTime": _iso(c.start)}

    def stop_composition(self, body: dict) -> dict[str, Any]:
        with self._lock:
            comp = self.compositions.get(str(body.get("arn") or ""))
            if comp is None:
                raise IvsError("ResourceNotFoundException", "composition not found")
            active = comp.state in ("STARTING", "ACTIVE")
            comp.state = "STOPPED"
        self._stop_process(comp)
        if active:
            self._emit(COMPOSITION_STATE_CHANGE, [comp.arn], {"event_name": "Session End", "stage_arn": comp.stage_arn})
        return {}

    def get_composition(self, body: dict) -> dict[str, Any]:
        with self._lock:
            comp = self.compositions.get(str(body.get("arn") or ""))
            if comp is None:
                raise IvsError("ResourceNotFoundException", "composition not found")
            return {"composition": self._composition_shape(comp)}

    def list_compositions(self, body: dict) -> dict[str, Any]:
        with self._lock:
            wanted = body.get("filterByStageArn")
            return {"compositions": [{"arn": c.arn, "stageArn": c.stage_arn, "state": c.state, "destinations": [],
                                      "tags": {}} for c in self.compositions.values()
                                     if not wanted or c.stage_arn == wanted]}

    def composing_into(self, composition_arn: str, channel_arn: str) -> bool:
        """Is `composition_arn` an active composition into `channel_arn` (the channel ingest lets its
        composer take the channel over from the host's own encoder)?"""
        with self._lock:
            comp = self.compositions.get(composition_arn)
            return comp is not None and comp.channel_arn == channel_arn and comp.state in ("STARTING", "ACTIVE")

    # ------------------------------------------------------------------ replication (PK)
    def start_participant_replication(self, body: dict) -> dict[str, Any]:
        with self._lock:
            source = self._stage(body.get("sourceStageArn"), "sourceStageArn")
            dest = self._stage(body.get("destinationStageArn"), "destinationStageArn")
            p = self.participants.get(str(body.get("participantId") or ""))
            if p is None or p.stage_arn != source.arn:
                raise IvsError("ResourceNotFoundException", "participant not found")
            dest.replicas.add((source.arn, p.participant_id))
        return {}

    def stop_participant_replication(self, body: dict) -> dict[str, Any]:
        with self._lock:
            dest = self._stage(body.get("destinationStageArn"), "destinationStageArn")
            dest.replicas.discard((body.get("sourceStageArn"), body.get("participantId")))
        return {}

    # ------------------------------------------------------------------ the composer (ffmpeg)
    def _recompose(self, stage_arn: str) -> None:
        with self._lock:
            comps = [c for c in self.compositions.values()
                     if c.stage_arn == stage_arn and c.state in ("STARTING", "ACTIVE")]
        for comp in comps:
            inputs = tuple(p.token for p in self.publishers(stage_arn))
            if comp.process is not None and comp.inputs == inputs and comp.process.poll() is None:
                continue
            self._stop_process(comp)
            comp.inputs = inputs
            if inputs and self.ffmpeg:
                comp.process = self._spawn(comp, inputs)
            if comp.state == "STARTING":
                comp.state = "ACTIVE"
                self._emit(COMPOSITION_STATE_CHANGE, [comp.arn], {"event_name": "Session Start",
                                                                  "stage_arn": comp.stage_arn})

    def filter_graph(self, layout: dict, count: int) -> tuple[str, str]:
        """The ffmpeg filter (and its output label) for `count` inputs: grid or pip, 1280x720."""
        width, height = COMPOSITION_SIZE
        if "pip" in layout and count >= 2:
            small_w, small_h = width // 4, height // 4
            offset = int((layout.get("pip") or {}).get("pipOffset", 16))
            return (f"[0:v]scale={width}:{height},setsar=1[big];[1:v]scale={small_w}:{small_h},setsar=1[small];"
                    f"[big][small]overlay=x=W-w-{offset}:y=H-h-{offset}[out]"), "[out]"
        if count == 1:
            return f"[0:v]scale={width}:{height},setsar=1[out]", "[out]"
        cols = 2 if count <= 4 else 3 if count <= 9 else 4
        rows = -(-count // cols)
        tile_w, tile_h = width // cols, height // rows
        scaled = "".join(f"[{i}:v]scale={tile_w}:{tile_h},setsar=1[t{i}];" for i in range(count))
        positions = "|".join(f"{(i % cols) * tile_w}_{(i // cols) * tile_h}" for i in range(count))
        tiles = "".join(f"[t{i}]" for i in range(count))
        return (f"{scaled}{tiles}xstack=inputs={count}:layout={positions}:fill=black[grid];"
                f"[grid]pad={width}:{height}[out]"), "[out]"

    def _spawn(self, comp: Composition, tokens: tuple) -> subprocess.Popen | None:
        target = self._channel_ingest(comp.channel_arn)
        if not target:
            return None
        target += f"?lc_composer={comp.arn}"     # local.ivs.control_plane.COMPOSER_ARG: a takeover
        base = self._rtmp_base()
        args = [self.ffmpeg, "-hide_banner", "-loglevel", "error"]
        for token in tokens:
            args += ["-rw_timeout", "5000000", "-i", f"{base}stage/{token}"]
        graph, out = self.filter_graph(comp.layout, len(tokens))
        args += ["-filter_complex", graph, "-map", out, "-map", "0:a?", "-c:v", "libx264", "-preset", "ultrafast",
                 "-tune", "zerolatency", "-g", "30", "-r", "30", "-c:a", "aac", "-f", "flv", target]
        return subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                start_new_session=True)

    @staticmethod
    def _stop_process(comp: Composition) -> None:
        process, comp.process = comp.process, None
        if process is None or process.poll() is not None:
            return
        try:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(5)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

    def stop_all(self) -> None:
        for comp in list(self.compositions.values()):
            self._stop_process(comp)

"""IVS real-time (boto3 ``ivs-realtime``): one stage per room, participant tokens,
composition into the room's channel, participant replication for PK.

Every call's shape follows botocore's ``ivs-realtime`` 2020-07-14 model (checked by
tests/integration/media/test_stages_stubbed.py with botocore's Stubber, which
validates each request against it). The client comes from
``livecommerce.shared.aws.client("ivs-realtime")``, which honours
``AWS_ENDPOINT_URL_IVS_REALTIME`` (the local stand-in, local/ivs/realtime.py).

Idempotent creation: CreateStage takes no client token, so the stage's name is
deterministic (``lc-<stage>-<room_id>``) and tagged with the room; the service
stores the ARN with a conditional write, and a lost race deletes its own stage.
StartComposition takes an ``idempotencyToken``: the service passes one per
layout switch, so a retried call does not start a second composition.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from livecommerce.media import errors
from livecommerce.media.errors import translate
from livecommerce.shared import aws, problems


class StageNotFound(problems.NotFound):
    status, code, title = 404, "stage_not_found", "The room's stage does not exist"


@dataclass(frozen=True)
class Stage:
    arn: str
    name: str
    rtmps_endpoint: str = ""
    whip_endpoint: str = ""


@dataclass(frozen=True)
class Token:
    participant_id: str
    token: str
    capabilities: tuple[str, ...]
    expires_at: str


def _rt() -> Any:
    return aws.client("ivs-realtime")


def stage_name(stage: str, room_id: str) -> str:
    return f"lc-{stage}-{room_id}"


def _stage(raw: Mapping[str, Any]) -> Stage:
    endpoints = raw.get("endpoints") or {}
    return Stage(arn=raw["arn"], name=raw.get("name", ""), rtmps_endpoint=endpoints.get("rtmps", "") or "",
                 whip_endpoint=endpoints.get("whip", "") or "")


def create_stage(room_id: str, *, host_id: str, stage: str) -> Stage:
    with translate("create the room's stage", not_found=StageNotFound):
        created = _rt().create_stage(name=stage_name(stage, room_id),
                                     tags={"room_id": room_id, "host_id": host_id, "stage": stage})
    return _stage(created["stage"])


def get_stage(arn: str) -> Stage:
    with translate("read the room's stage", not_found=StageNotFound):
        return _stage(_rt().get_stage(arn=arn)["stage"])


def delete_stage(arn: str) -> bool:
    """False when it was already gone."""
    try:
        with translate("delete the room's stage", not_found=StageNotFound):
            _rt().delete_stage(arn=arn)
    except StageNotFound:
        return False
    return True


def create_token(stage_arn: str, *, user_id: str, attributes: Mapping[str, str],
                 capabilities: Sequence[str], minutes: int) -> Token:
    with translate("issue a stage token", not_found=StageNotFound):
        raw = _rt().create_participant_token(stageArn=stage_arn, userId=user_id, attributes=dict(attributes),
                                             capabilities=list(capabilities), duration=minutes)["participantToken"]
    expires = raw.get("expirationTime")
    return Token(participant_id=raw["participantId"], token=raw["token"],
                 capabilities=tuple(raw.get("capabilities") or capabilities),
                 expires_at=expires.isoformat() if hasattr(expires, "isoformat") else str(expires or ""))


def disconnect(stage_arn: str, participant_id: str, reason: str) -> bool:
    """Drop a participant from the stage; False when the stage or participant was gone already."""
    try:
        with translate("disconnect the guest", not_found=StageNotFound):
            _rt().disconnect_participant(stageArn=stage_arn, participantId=participant_id, reason=reason[:128])
    except StageNotFound:
        return False
    return True


def start_composition(stage_arn: str, *, channel_arn: str, layout: Mapping[str, Any], idempotency_token: str,
                      room_id: str, stage: str) -> str:
    """Compose the stage into the room's IVS channel (what HLS viewers, the recording and the replay see).
    Tagged with the deployment stage: the functions' IAM grants on compositions require it
    (aws:RequestTag/stage here, aws:ResourceTag/stage on Get/StopComposition)."""
    with translate("start composing the stage", not_found=StageNotFound):
        raw = _rt().start_composition(stageArn=stage_arn, idempotencyToken=idempotency_token[:64],
                                      layout=dict(layout),
                                      destinations=[{"name": "room-channel", "channel": {"channelArn": channel_arn}}],
                                      tags={"room_id": room_id, "stage": stage})
    return raw["composition"]["arn"]


def stop_composition(arn: str) -> bool:
    try:
        with translate("stop composing the stage", not_found=StageNotFound):
            _rt().stop_composition(arn=arn)
    except StageNotFound:
        return False
    return True


def start_replication(source_stage_arn: str, destination_stage_arn: str, participant_id: str,
                      attributes: Mapping[str, str]) -> None:
    """PK: the host of one room appears on the other room's stage (and so in its composition)."""
    with translate("link the PK stages", not_found=StageNotFound):
        _rt().start_participant_replication(sourceStageArn=source_stage_arn,
                                            destinationStageArn=destination_stage_arn,
                                            participantId=participant_id, reconnectWindowSeconds=30,
                                            attributes=dict(attributes))


def stop_replication(source_stage_arn: str, destination_stage_arn: str, participant_id: str) -> bool:
    try:
        with translate("unlink the PK stages", not_found=StageNotFound):
            _rt().stop_participant_replication(sourceStageArn=source_stage_arn,
                                               destinationStageArn=destination_stage_arn,
                                               participantId=participant_id)
    except StageNotFound:
        return False
    return True


def quota_exceeded(exc: BaseException) -> bool:
    return isinstance(exc, errors.MediaQuotaExceeded) or errors.error_code(exc) == "ServiceQuotaExceededException"

"""The IVS real-time quotas that bind (docs/costreaming.md): what the product says when one is
hit. The real code path (livecommerce.media.stages on boto3's ivs-realtime client) against
botocore's Stubber, which checks every request against the service model; and the local
stand-in enforcing the same default quotas (stages per region, concurrent compositions)."""
from __future__ import annotations

import boto3
import pytest
from botocore.stub import Stubber

from livecommerce.media import errors, stages
from local.ivs.realtime import COMPOSITIONS_PER_ACCOUNT, STAGES_PER_REGION, RealtimeState
from local.ivs.state import IvsError

pytestmark = pytest.mark.integration

STAGE = "arn:aws:ivs:us-east-1:123456789012:stage/abcdEFGH1234"
CHANNEL = "arn:aws:ivs:us-east-1:123456789012:channel/abcdEFGH1234"


@pytest.fixture
def stubbed(monkeypatch):
    client = boto3.client("ivs-realtime", region_name="us-east-1", aws_access_key_id="x",
                          aws_secret_access_key="x")
    monkeypatch.setattr(stages, "_rt", lambda: client)
    with Stubber(client) as stubber:
        yield stubber


def test_stage_and_composition_quotas_become_503_media_quota_exceeded(stubbed):
    stubbed.add_client_error("create_stage", "ServiceQuotaExceededException", "stages", 402,
                             expected_params={"name": "lc-dev-room1", "tags": {"room_id": "room1", "host_id": "h",
                                                                              "stage": "dev"}})
    with pytest.raises(errors.MediaQuotaExceeded) as hit:
        stages.create_stage("room1", host_id="h", stage="dev")
    assert (hit.value.status, hit.value.code) == (503, "media_quota_exceeded")

    stubbed.add_client_error("start_composition", "ServiceQuotaExceededException", "compositions", 402,
                             expected_params={"stageArn": STAGE, "idempotencyToken": "t1", "layout": {"grid": {}},
                                              "destinations": [{"name": "room-channel",
                                                                "channel": {"channelArn": CHANNEL}}],
                                              "tags": {"room_id": "room1", "stage": "dev"}})
    with pytest.raises(errors.MediaQuotaExceeded) as hit:
        stages.start_composition(STAGE, channel_arn=CHANNEL, layout={"grid": {}}, idempotency_token="t1",
                                 room_id="room1", stage="dev")
    assert stages.quota_exceeded(hit.value)
    stubbed.assert_no_pending_responses()


def test_the_stand_in_enforces_the_default_quotas():
    state = RealtimeState(region="us-east-1", account_id="123456789012", rtmp_base=lambda: "rtmp://127.0.0.1:1/",
                          channel_ingest=lambda arn: "" if arn == CHANNEL else None, emit=lambda *a: None)
    arns = [state.create_stage({"name": f"s{i}"})["stage"]["arn"] for i in range(STAGES_PER_REGION)]
    with pytest.raises(IvsError) as hit:
        state.create_stage({"name": "one-more"})
    assert hit.value.code == "ServiceQuotaExceededException"
    for arn in arns[:COMPOSITIONS_PER_ACCOUNT]:
        state.start_composition({"stageArn": arn, "destinations": [{"channel": {"channelArn": CHANNEL}}]})
    with pytest.raises(IvsError) as hit:
        state.start_composition({"stageArn": arns[-1], "destinations": [{"channel": {"channelArn": CHANNEL}}]})
    assert hit.value.code == "ServiceQuotaExceededException"
    state.stop_composition({"arn": next(iter(state.compositions))})   # one ends: the next may start
    state.start_composition({"stageArn": arns[-1], "destinations": [{"channel": {"channelArn": CHANNEL}}]})

"""Replays on AWS (docs/replays.md): the replay_tasks function may start the replay machine and
only it (its ARN in REPLAY_STATE_MACHINE_ARN); the functions with `recordings_access` read (and
write) IVS's recording layout of the recordings bucket only, with RECORDINGS_BUCKET and
REPLAY_BASE_URL; the recordings bucket sends its object events to EventBridge, and rules send
Recording End and recording-ended.json's Object Created to replay_tasks; the replay CloudFront
distribution reads the bucket through origin access control and serves playlists, segments and
thumbnails under /t/<token>/ only."""
from __future__ import annotations

import json

import pytest

from infra_helpers import as_list, function_logical_id, props, resources, role_statements
from livecommerce.manifest import BY_NAME, STATE_MACHINES_BY_KEY
from test_infra_workflows_stack import by_name, exported, flat

pytestmark = pytest.mark.infra


def test_replay_tasks_starts_the_replay_machine_only(synth, stage):
    template, config, api = synth.json(stage, "Workflows"), synth.config(stage), synth.json(stage, "Api")
    machine = STATE_MACHINES_BY_KEY["replay"]
    machine_id, _ = by_name(template, "AWS::StepFunctions::StateMachine", "StateMachineName",
                            machine.physical_name(config.prefix))
    starters = {}
    for _id, resource in resources(template, "AWS::IAM::Policy").items():
        for statement in props(resource)["PolicyDocument"]["Statement"]:
            if "states:StartExecution" in as_list(statement["Action"]) and \
                    all("Fn::ImportValue" in role for role in props(resource)["Roles"]):
                (role,) = props(resource)["Roles"]
                (function,) = [name for name in BY_NAME if {"Ref": api["Resources"][function_logical_id(
                    api, name, stage)]["Properties"]["Role"]["Fn::GetAtt"][0]} == exported(synth, stage, role)]
                starters[function] = statement
    assert set(starters) == {s.name for s in BY_NAME.values() if s.starts_workflows} == {"replay_tasks"}
    assert starters["replay_tasks"]["Action"] == "states:StartExecution"
    assert starters["replay_tasks"]["Resource"] == {"Ref": machine_id}
    env = props(api["Resources"][function_logical_id(api, "replay_tasks", stage)])["Environment"]["Variables"]
    assert flat(env["REPLAY_STATE_MACHINE_ARN"]).endswith(
        f":states:<AWS::Region>:<AWS::AccountId>:stateMachine:{machine.physical_name(config.prefix)}")


def test_recordings_access_grants_the_ivs_layout_only(synth, stage):
    api, media = synth.json(stage, "Api"), synth.json(stage, "Media")
    (bucket_id,) = [k for k, r in resources(media, "AWS::S3::Bucket").items()
                    if props(r).get("NotificationConfiguration", {}).get("EventBridgeConfiguration") is not None]
    assert "Recordings" in bucket_id            # only the recordings bucket sends events to EventBridge
    for name, spec in BY_NAME.items():
        granted = [s for s in role_statements(api, function_logical_id(api, name, stage))
                   if any(a.startswith("s3:") for a in as_list(s["Action"]))
                   and "RecordingsBucketArn" in json.dumps(s["Resource"])]
        env = props(api["Resources"][function_logical_id(api, name, stage)])["Environment"]["Variables"]
        if not spec.recordings_access:
            assert granted == [] and "RECORDINGS_BUCKET" not in env and "REPLAY_BASE_URL" not in env, name
            continue
        objects, listing = granted
        expected = ["s3:GetObject", "s3:PutObject"] if spec.recordings_access == "write" else ["s3:GetObject"]
        assert sorted(as_list(objects["Action"])) == expected
        assert flat(objects["Resource"]).endswith("/ivs/v1/*")
        assert listing["Action"] == "s3:ListBucket" and listing["Condition"] == {
            "StringLike": {"s3:prefix": ["ivs/v1/*"]}}
        assert json.dumps(env["RECORDINGS_BUCKET"]).endswith('-Media-RecordingsBucketName"}')
        assert json.dumps(env["REPLAY_BASE_URL"]).endswith('-Media-ReplayBaseUrl"}')
    assert {n for n, s in BY_NAME.items() if s.recordings_access} == {"replays", "replay_tasks"}


def test_recording_events_reach_replay_tasks(synth, stage):
    api = synth.json(stage, "Api")
    target = function_logical_id(api, "replay_tasks", stage)
    patterns = [props(r)["EventPattern"] for r in resources(api, "AWS::Events::Rule").values()
                if target in json.dumps(props(r).get("Targets", []))]
    sources = {(p["source"][0], p["detail-type"][0]): p.get("detail") for p in patterns if "source" in p}
    assert sources[("aws.ivs", "IVS Recording State Change")] == {"recording_status": ["Recording End"]}
    assert sources[("aws.s3", "Object Created")] == {"object": {"key": [{"suffix": "/events/recording-ended.json"}]}}


def test_replay_distribution_reads_the_bucket_through_origin_access_control(synth, stage):
    media = synth.json(stage, "Media")
    (dist_id, dist), = [(k, r) for k, r in resources(media, "AWS::CloudFront::Distribution").items()
                        if "ReplayCdn" in k]
    config = props(dist)["DistributionConfig"]
    (origin,) = config["Origins"]
    assert origin["OriginAccessControlId"] and origin["S3OriginConfig"] == {"OriginAccessIdentity": ""}
    # token URLs only, each checked by the replay edge function (test_infra_replay_edge.py)
    assert sorted(b["PathPattern"] for b in config["CacheBehaviors"]) == ["t/*.jpg", "t/*.m3u8", "t/*.ts"]
    assert all(b["ViewerProtocolPolicy"] == "https-only" for b in config["CacheBehaviors"])
    (refuse,) = config["DefaultCacheBehavior"]["FunctionAssociations"]
    assert refuse["EventType"] == "viewer-request"
    (oac,) = resources(media, "AWS::CloudFront::OriginAccessControl").values()
    assert props(oac)["OriginAccessControlConfig"]["SigningBehavior"] == "always"
    # the bucket policy lets this distribution (and nothing else) read
    reads = [s for policy in resources(media, "AWS::S3::BucketPolicy").values()
             for s in props(policy)["PolicyDocument"]["Statement"]
             if s.get("Principal") == {"Service": "cloudfront.amazonaws.com"}]
    assert reads and all(as_list(s["Action"]) == ["s3:GetObject"] for s in reads)
    assert all(dist_id in json.dumps(s["Condition"]) for s in reads)

"""The replay edge function on AWS (docs/replays.md, "The replay edge function on AWS"): a us-east-1
stack per stage with the Lambda@Edge viewer-request function (cdk/assets/replay_edge + the stage's
replay public keys bundled at synth), within Lambda@Edge's limits, its role trusting lambda and
edgelambda with logs only, a retained published version whose ARN goes through an SSM parameter in
us-east-1 to the media stack, where the replay distribution's t/* behaviours run it on
viewer-request; the replays function hands out token URLs. The stage configuration must hold the
public key (or say the stage is at its first deploy): a clear error at synth otherwise."""
from __future__ import annotations

import dataclasses
import json
import shutil
import subprocess
import time
from pathlib import Path

import pytest
from aws_cdk import App, Environment
from aws_cdk import assertions

from cdk.config import STAGES, StageConfig
from cdk.stacks.replay_edge_stack import MAX_PACKAGE_BYTES, ReplayEdgeStack
from cdk.stage import FEATURE_FLAGS, cdk_json_context
from infra_helpers import as_list, function_logical_id, props, resources
from livecommerce.media import playback

pytestmark = pytest.mark.infra

# Lambda@Edge runtimes (CloudFront developer guide, "Restrictions on Lambda@Edge", supported runtimes)
EDGE_NODE_RUNTIMES = {"nodejs22.x", "nodejs20.x", "nodejs18.x"}
PREFIX = "ivs/v1/123456789012/abcd1234/2026/3/14/11/0/recEDGE"


def _edge(synth, stage: str) -> dict:
    return assertions.Template.from_stack(synth.stages[stage].replay_edge).to_json()


def _only(template: dict, kind: str) -> tuple[str, dict]:
    (found,) = resources(template, kind).items()
    return found


def _asset_dir(outdir: Path, function: dict) -> Path:
    return Path(outdir) / f"asset.{props(function)['Code']['S3Key'].removesuffix('.zip')}"


def test_edge_function_within_lambda_edge_limits(synth, stage):
    stack = synth.stages[stage].replay_edge
    assert stack.region == "us-east-1" and stack.stack_name == f"LiveCommerce-{stage}-ReplayEdge"
    template = _edge(synth, stage)
    function_id, function = _only(template, "AWS::Lambda::Function")
    p = props(function)
    assert p["Runtime"] in EDGE_NODE_RUNTIMES
    assert p["Handler"] == "index.handler"
    # Lambda@Edge: no environment variables, layers, VPC, X-Ray, DLQ; x86_64; viewer-request 128 MB / 5 s
    assert not {"Environment", "Layers", "VpcConfig", "TracingConfig", "DeadLetterConfig",
                "EphemeralStorage", "ReservedConcurrentExecutions"} & set(p)
    assert p.get("Architectures", ["x86_64"]) == ["x86_64"]
    assert p["MemorySize"] <= 128 and p["Timeout"] <= 5
    assert p["FunctionName"] == f"{synth.config(stage).prefix}-replay-edge"
    # a numbered version (CloudFront takes no $LATEST, no alias), kept when the next one is published
    version_id, version = _only(template, "AWS::Lambda::Version")
    assert props(version)["FunctionName"] == {"Ref": function_id}
    assert version["DeletionPolicy"] == "Retain" and function["DeletionPolicy"] == "Retain"
    assert resources(template, "AWS::Lambda::Alias") == {}
    _param_id, parameter = _only(template, "AWS::SSM::Parameter")
    assert props(parameter)["Name"] == f"/{synth.config(stage).prefix}/replay-edge/version-arn"
    assert props(parameter)["Value"] == {"Ref": version_id}


def test_edge_package_is_the_handler_with_the_stage_keys(synth, stage):
    _id, function = _only(_edge(synth, stage), "AWS::Lambda::Function")
    bundle = _asset_dir(synth.outdir, function)
    files = {p.name: p for p in bundle.rglob("*") if p.is_file()}
    assert set(files) == {"index.mjs", "verify.mjs", "keys.mjs"}
    assert 0 < sum(p.stat().st_size for p in files.values()) < MAX_PACKAGE_BYTES == 1024 * 1024
    keys = json.loads(files["keys.mjs"].read_text().split("PUBLIC_KEYS = ", 1)[1].rstrip().rstrip(";"))
    assert [k.strip() for k in keys] == [k.strip() for k in synth.config(stage).replay_public_keys]
    assert "PRIVATE" not in files["keys.mjs"].read_text()


def test_edge_role_trusts_lambda_and_edgelambda_and_writes_logs_only(synth, stage):
    template = _edge(synth, stage)
    role_id, role = _only(template, "AWS::IAM::Role")
    (trust,) = props(role)["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Action"] == "sts:AssumeRole"
    assert set(as_list(trust["Principal"]["Service"])) == {"lambda.amazonaws.com", "edgelambda.amazonaws.com"}
    assert "ManagedPolicyArns" not in props(role) and "Policies" not in props(role)
    _fid, function = _only(template, "AWS::Lambda::Function")
    assert props(function)["Role"] == {"Fn::GetAtt": [role_id, "Arn"]}
    (policy,) = [p for p in resources(template, "AWS::IAM::Policy").values()
                 if {"Ref": role_id} in props(p)["Roles"]]
    name = props(function)["FunctionName"]
    for statement in props(policy)["PolicyDocument"]["Statement"]:
        assert set(as_list(statement["Action"])) <= {"logs:CreateLogGroup", "logs:CreateLogStream",
                                                      "logs:PutLogEvents"}
        for resource in as_list(statement["Resource"]):
            assert f":log-group:/aws/lambda/us-east-1.{name}" in json.dumps(resource)


def test_replay_distribution_runs_the_edge_version_on_viewer_request(synth, stage):
    media, edge = synth.json(stage, "Media"), _edge(synth, stage)
    (dist,) = [r for k, r in resources(media, "AWS::CloudFront::Distribution").items() if "ReplayCdn" in k]
    config = props(dist)["DistributionConfig"]
    (reader_id, reader), = [(k, r) for k, r in media["Resources"].items() if r["Type"] == "Custom::ReplayEdgeVersion"]
    assert sorted(b["PathPattern"] for b in config["CacheBehaviors"]) == ["t/*.jpg", "t/*.m3u8", "t/*.ts"]
    for behaviour in config["CacheBehaviors"]:
        (association,) = behaviour["LambdaFunctionAssociations"]
        assert association == {"EventType": "viewer-request", "IncludeBody": False,
                               "LambdaFunctionARN": {"Fn::GetAtt": [reader_id, "Parameter.Value"]}}
        assert behaviour["ViewerProtocolPolicy"] == "https-only" and "FunctionAssociations" not in behaviour
    # anything else: the refusing CloudFront Function, no origin fetch
    default = config["DefaultCacheBehavior"]
    assert "LambdaFunctionAssociations" not in default
    assert [a["EventType"] for a in default["FunctionAssociations"]] == ["viewer-request"]
    # the reader asks SSM in us-east-1 for the edge stack's parameter, and may read that parameter only
    call = json.loads(props(reader)["Create"])
    assert call == json.loads(props(reader)["Update"])
    (_p, parameter), = resources(edge, "AWS::SSM::Parameter").items()
    assert (call["service"], call["action"], call["region"]) == ("SSM", "getParameter", "us-east-1")
    assert call["parameters"] == {"Name": props(parameter)["Name"]}
    # a new bundle (a new version) changes the physical id: CloudFormation reads the parameter again
    assert call["physicalResourceId"]["id"].endswith("@" + edge["Outputs"]["ReplayEdgeBundleDigest"]["Value"])
    statements = [s for p in resources(media, "AWS::IAM::Policy").values()
                  for s in props(p)["PolicyDocument"]["Statement"] if "ssm:GetParameter" in as_list(s["Action"])]
    (read,) = statements
    assert as_list(read["Action"]) == ["ssm:GetParameter"]
    assert json.dumps(read["Resource"]).endswith(':ssm:us-east-1:", {"Ref": "AWS::AccountId"}, '
                                                 f'":parameter{props(parameter)["Name"]}"]]}}')
    # deploy order: the edge stack (and its parameter) before the media stack
    assert synth.stages[stage].replay_edge in synth.stages[stage].media.dependencies


def test_replays_function_tokenises_and_media_outputs_the_public_key(synth, stage):
    api, media = synth.json(stage, "Api"), synth.json(stage, "Media")
    env = props(api["Resources"][function_logical_id(api, "replays", stage)])["Environment"]["Variables"]
    assert env["REPLAY_URL_TOKENS"] == "on"
    (material_id, _m), = [(k, r) for k, r in media["Resources"].items() if r["Type"] == "Custom::PlaybackKeyMaterial"]
    assert media["Outputs"]["PlaybackPublicKeyPem"]["Value"] == {"Fn::GetAtt": [material_id, "PublicKeyPem"]}


# ---------------------------------------------------------------------------- configuration

def _with_keys(*pems: str, pending: bool = False) -> StageConfig:
    return dataclasses.replace(STAGES["dev"], replay_public_keys=tuple(pems), replay_keys_pending=pending)


def test_stage_without_replay_keys_is_a_synth_error():
    private, public = playback.generate_key_pair()
    with pytest.raises(ValueError) as missing:
        _with_keys()
    assert "replay_public_keys is required" in str(missing.value)
    assert "PlaybackPublicKeyPem" in str(missing.value) and "replay_keys_pending=True" in str(missing.value)
    with pytest.raises(ValueError) as secret:
        _with_keys(private)
    assert "never put a private key" in str(secret.value) and "PRIVATE" not in str(secret.value)
    with pytest.raises(ValueError, match="not a PEM public key"):
        _with_keys("-----BEGIN PUBLIC KEY-----\nnot base64\n-----END PUBLIC KEY-----\n")
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    p256 = ec.generate_private_key(ec.SECP256R1()).public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    with pytest.raises(ValueError, match="not a P-384"):
        _with_keys(p256)
    with pytest.raises(ValueError, match="same key twice"):
        _with_keys(public, public)
    with pytest.raises(ValueError, match="replay_keys_pending is for a stage without"):
        _with_keys(public, pending=True)
    assert _with_keys(public).replay_public_keys == (public,)
    assert _with_keys(pending=True).replay_keys_pending


RUNNER = """
import { handler } from './index.mjs';
import { writeFileSync } from 'node:fs';
const events = JSON.parse(process.argv[2]);
const out = [];
for (const e of events) out.push(await handler(e));
writeFileSync('out.json', JSON.stringify(out));   // stdout holds the handler's log lines
"""


def _viewer_request(uri: str) -> dict:
    return {"Records": [{"cf": {"config": {"eventType": "viewer-request", "distributionId": "EDFDVBD6EXAMPLE"},
                                "request": {"clientIp": "203.0.113.178", "method": "GET", "querystring": "",
                                            "uri": uri, "headers": {}}}}]}


@pytest.mark.skipif(shutil.which("node") is None, reason="node missing: run `make test`")
def test_synthesized_package_verifies_tokens_of_the_configured_key(tmp_path):
    """A stage with its key: the package CDK stages is the working handler with that key (a token
    signed with the private half passes with the token stripped, another key's is refused), and a
    key change is a new bundle digest, hence a new version and a new read by the media stack."""
    private, public = playback.generate_key_pair()
    other_private, other_public = playback.generate_key_pair()
    app = App(context={**cdk_json_context(), **FEATURE_FLAGS}, outdir=str(tmp_path / "out"))
    stack = ReplayEdgeStack(app, "Edge", config=_with_keys(public), env=Environment(region="us-east-1"))
    rotated = ReplayEdgeStack(app, "Rotated", config=_with_keys(public, other_public),
                              env=Environment(region="us-east-1"))
    assembly = app.synth()
    assert stack.bundle_digest != rotated.bundle_digest
    template = assembly.get_stack_by_name("Edge").template
    (function,) = [r for r in template["Resources"].values() if r["Type"] == "AWS::Lambda::Function"]
    bundle = _asset_dir(tmp_path / "out", function)
    runner = bundle.parent / f"{bundle.name}-run"
    shutil.copytree(bundle, runner)
    (runner / "runner.mjs").write_text(RUNNER)
    now = int(time.time())
    good, _ = playback.sign_replay_token(PREFIX, "host-1", private_key_pem=private, ttl_seconds=600, now=now)
    foreign, _ = playback.sign_replay_token(PREFIX, "host-1", private_key_pem=other_private, ttl_seconds=600,
                                            now=now)
    key = f"{PREFIX}/media/hls/720p30/playlist.m3u8"
    events = [_viewer_request(f"/t/{good}/{key}"), _viewer_request(f"/t/{foreign}/{key}"),
              _viewer_request(f"/{key}")]
    done = subprocess.run(["node", "runner.mjs", json.dumps(events)], cwd=runner, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    passed, refused_key, refused_bare = json.loads((runner / "out.json").read_text())
    assert passed["uri"] == f"/{key}" and "status" not in passed
    assert str(refused_key["status"]) == "403" and str(refused_bare["status"]) == "403"

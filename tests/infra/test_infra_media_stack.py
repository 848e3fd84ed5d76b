"""The media stack: recordings (bucket and IVS recording configuration), the
playback key pair (secret, custom resources, IVS key pair) and the playback CDN."""
from __future__ import annotations

import dataclasses
import json

import pytest
from aws_cdk import App, Environment

from cdk import nag
from cdk.config import STAGES, StageConfig
from cdk.constructs.playback_cdn import UNCACHED_ERROR_CODES
from cdk.stacks.data_stack import DataStack
from cdk.stacks.media_stack import MediaStack
from cdk.stacks.replay_edge_stack import EDGE_REGION, ReplayEdgeStack
from cdk.stage import FEATURE_FLAGS, cdk_json_context
from infra_helpers import as_list, props, resources, statements

pytestmark = pytest.mark.infra

CACHING_DISABLED_ID = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"   # the managed CachingDisabled policy
CERTIFICATE = "arn:aws:acm:us-east-1:123456789012:certificate/0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b"


def _one(template: dict, type_: str) -> tuple[str, dict]:
    (found,) = resources(template, type_).items()
    return found


def _setup_function(template: dict) -> tuple[str, dict]:
    """The playback key setup function (the other one is the replay edge version reader's)."""
    (found,) = [(k, r) for k, r in resources(template, "AWS::Lambda::Function").items()
                if k.startswith("PlaybackKeySetup")]
    return found


def _buckets(template: dict) -> dict[str, dict]:
    """'recordings' / 'logs' -> bucket resource."""
    found = {}
    for logical_id, bucket in resources(template, "AWS::S3::Bucket").items():
        found["recordings" if logical_id.startswith("RecordingsBucket") else "logs"] = (logical_id, bucket)
    assert set(found) == {"recordings", "logs"}
    return found


# ------------------------------------------------------------------ recordings

def test_recording_configuration(synth, stage):
    config = synth.config(stage)
    template = synth.json(stage, "Media")
    (_id, recording) = _one(template, "AWS::IVS::RecordingConfiguration")
    p = props(recording)
    recordings_id, _bucket = _buckets(template)["recordings"]
    assert p["Name"] == f"livecommerce-{stage}-recordings"
    assert p["DestinationConfiguration"] == {"S3": {"BucketName": {"Ref": recordings_id}}}
    assert p["RecordingReconnectWindowSeconds"] == config.recording_reconnect_window_seconds == 60
    assert p["RenditionConfiguration"] == {"RenditionSelection": "ALL"}
    assert p["ThumbnailConfiguration"]["RecordingMode"] == "INTERVAL"
    assert p["ThumbnailConfiguration"]["TargetIntervalSeconds"] == config.recording_thumbnail_interval_seconds == 10
    assert set(p["ThumbnailConfiguration"]["Storage"]) == {"SEQUENTIAL", "LATEST"}


def test_recordings_bucket(synth, stage):
    config = synth.config(stage)
    template = synth.json(stage, "Media")
    buckets = _buckets(template)
    recordings_id, recordings = buckets["recordings"]
    logs_id, _logs = buckets["logs"]
    p = props(recordings)
    assert p["VersioningConfiguration"] == {"Status": "Enabled"}
    assert p["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True, "BlockPublicPolicy": True, "IgnorePublicAcls": True, "RestrictPublicBuckets": True}
    # SSE-S3: IVS writes with its service-linked role, which has no KMS permissions (media_stack.py).
    (rule,) = p["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule["ServerSideEncryptionByDefault"] == {"SSEAlgorithm": "AES256"}
    assert p["OwnershipControls"]["Rules"] == [{"ObjectOwnership": "BucketOwnerEnforced"}]
    assert p["LoggingConfiguration"]["DestinationBucketName"] == {"Ref": logs_id}
    lifecycle = {r["Id"]: r for r in p["LifecycleConfiguration"]["Rules"]}
    assert lifecycle["noncurrent-versions"]["NoncurrentVersionExpiration"]["NoncurrentDays"] == \
        config.noncurrent_version_days
    assert "abort-incomplete-uploads" in lifecycle
    if config.recording_expiry_days is None:
        assert "expire-objects" not in lifecycle
    else:
        assert lifecycle["expire-objects"]["ExpirationInDays"] == config.recording_expiry_days
    if config.recording_expiry_days is None or config.recording_expiry_days > config.recording_tiering_days:
        assert lifecycle["transitions"]["Transitions"] == [
            {"StorageClass": "INTELLIGENT_TIERING", "TransitionInDays": config.recording_tiering_days}]
    policies = {props(pol)["Bucket"]["Ref"]: props(pol)["PolicyDocument"]
                for pol in resources(template, "AWS::S3::BucketPolicy").values()}
    for bucket_id in (recordings_id, logs_id):
        assert any(s["Effect"] == "Deny" and s.get("Condition", {}).get("Bool", {}).get("aws:SecureTransport")
                   == "false" for s in policies[bucket_id]["Statement"]), bucket_id
    # Retained with the stage's data.
    expected = "Retain" if config.retain_data else "Delete"
    assert recordings["DeletionPolicy"] == expected


def test_logs_bucket_accepts_cloudfront_logs(synth, stage):
    config = synth.config(stage)
    _logs_id, logs = _buckets(synth.json(stage, "Media"))["logs"]
    p = props(logs)
    # CloudFront standard logs are delivered with ACLs: ownership must not disable them.
    assert p["OwnershipControls"]["Rules"] == [{"ObjectOwnership": "BucketOwnerPreferred"}]
    assert p["PublicAccessBlockConfiguration"]["BlockPublicAcls"] is True
    lifecycle = {r["Id"]: r for r in p["LifecycleConfiguration"]["Rules"]}
    assert lifecycle["expire-objects"]["ExpirationInDays"] == config.access_log_expiry_days


# ------------------------------------------------------------ playback key pair

def test_playback_key_pair_is_generated_at_deploy(synth, stage):
    template = synth.json(stage, "Media")
    material_id, material = _one(template, "Custom::PlaybackKeyMaterial")
    key_pair_id, key_pair = _one(template, "AWS::IVS::PlaybackKeyPair")
    record_id, record = _one(template, "Custom::PlaybackKeyPairArn")
    secret_id, secret = _one(template, "AWS::SecretsManager::Secret")
    function_id, _function = _setup_function(template)

    assert props(key_pair)["Name"] == f"livecommerce-{stage}-playback"
    assert props(key_pair)["PublicKeyMaterial"] == {"Fn::GetAtt": [material_id, "PublicKeyPem"]}
    for custom in (material, record):
        assert props(custom)["ServiceToken"] == {"Fn::GetAtt": [function_id, "Arn"]}
        assert props(custom)["SecretId"] == {"Ref": secret_id}
    assert props(record)["KeyPairArn"] == {"Fn::GetAtt": [key_pair_id, "Arn"]}

    assert props(secret)["Name"] == f"livecommerce-{stage}/playback-key"
    assert "DataKey" in json.dumps(props(secret)["KmsKeyId"])
    # The private key never appears in the template.
    assert "PRIVATE KEY" not in json.dumps(template)


def test_playback_key_setup_function_may_only_write_its_secret(synth, stage):
    template = synth.json(stage, "Media")
    secret_id, _secret = _one(template, "AWS::SecretsManager::Secret")
    # (the replay edge version reader's role: test_infra_replay_edge.py)
    granted = [s for _id, s in statements(template) if not _id.startswith("ReplayEdgeVersion")]
    actions = {a for s in granted for a in as_list(s["Action"])}
    assert actions == {"logs:CreateLogStream", "logs:PutLogEvents", "xray:PutTraceSegments",
                       "xray:PutTelemetryRecords", "secretsmanager:GetSecretValue",
                       "secretsmanager:PutSecretValue", "kms:Decrypt", "kms:DescribeKey", "kms:Encrypt",
                       "kms:GenerateDataKey"}
    for statement in granted:
        if any(a.startswith("secretsmanager:") for a in as_list(statement["Action"])):
            assert statement["Resource"] == {"Ref": secret_id}
        if any(a.startswith("kms:") for a in as_list(statement["Action"])):
            assert "secretsmanager." in json.dumps(statement["Condition"]["StringEquals"]["kms:ViaService"])


def test_playback_key_handler_asset(synth, stage):
    template = synth.json(stage, "Media")
    (_id, function) = _setup_function(template)
    code = synth.outdir / f"asset.{props(function)['Code']['S3Key'].removesuffix('.zip')}"
    assert (code / "handler.py").is_file()
    assert props(function)["Handler"] == "handler.handler"
    assert props(function)["Timeout"] <= 300


# ---------------------------------------------------------------- playback CDN

def _playback_distributions(template: dict) -> dict[str, dict]:
    """The playback distributions (the replay distribution, ReplayCdn: test_infra_replays.py)."""
    return {k: r for k, r in resources(template, "AWS::CloudFront::Distribution").items() if "ReplayCdn" not in k}


def _distribution(template: dict) -> dict:
    ((_id, distribution),) = _playback_distributions(template).items()
    return props(distribution)["DistributionConfig"]


def test_distribution_only_with_a_playback_origin(synth, stage):
    config = synth.config(stage)
    template = synth.json(stage, "Media")
    distributions = _playback_distributions(template)
    assert bool(distributions) == config.serves_playback_from_cdn
    assert ("PlaybackDistributionDomainName" in template["Outputs"]) == config.serves_playback_from_cdn
    assert not synth.config("dev").serves_playback_from_cdn
    assert synth.config("prod").serves_playback_from_cdn


def test_no_placeholder_playback_host_in_the_config():
    """The prod origin is derived at deploy from a reserved channel's playbackUrl, never a made-up host."""
    from cdk.config import STAGES

    for config in STAGES.values():
        assert "0123456789ab" not in config.playback_origin_domain
        assert config.playback_origin_domain == "" or config.playback_origin_domain.endswith(".live-video.net")
    with pytest.raises(ValueError, match="playback_distribution"):
        dataclasses.replace(STAGES["dev"], playback_domain="live.example.com",
                playback_certificate_arn="arn:aws:acm:us-east-1:123456789012:certificate/abc-123")


def test_distribution_forwards_the_token_and_is_https_only(synth):
    config = synth.config("prod")
    template = synth.json("prod", "Media")
    distribution = _distribution(template)

    (origin,) = distribution["Origins"]
    # prod names no host: the origin is the host of the reserved channel's playbackUrl.
    assert not config.playback_origin_domain
    probe = _one(template, "AWS::IVS::Channel")[0]
    assert origin["DomainName"] == {"Fn::Select": [2, {"Fn::Split": ["/", {"Fn::GetAtt": [probe, "PlaybackUrl"]}]}]}
    assert origin["CustomOriginConfig"]["OriginProtocolPolicy"] == "https-only"
    assert origin["CustomOriginConfig"]["OriginSSLProtocols"] == ["TLSv1.2"]

    behaviours = [distribution["DefaultCacheBehavior"], *distribution["CacheBehaviors"]]
    assert all(b["ViewerProtocolPolicy"] == "https-only" for b in behaviours)
    assert all(b["AllowedMethods"] == ["GET", "HEAD"] for b in behaviours)

    # Playlists (the default behaviour; no other behaviour matches *.m3u8): not cached,
    # every query string (the token) forwarded to IVS.
    default = distribution["DefaultCacheBehavior"]
    assert default["CachePolicyId"] == CACHING_DISABLED_ID
    (_id, request_policy) = _one(template, "AWS::CloudFront::OriginRequestPolicy")
    assert default["OriginRequestPolicyId"] == {"Ref": _id}
    query = props(request_policy)["OriginRequestPolicyConfig"]["QueryStringsConfig"]
    assert query["QueryStringBehavior"] == "all" or "token" in query["QueryStrings"]
    assert not any("m3u8" in b["PathPattern"] for b in distribution["CacheBehaviors"])

    # Segments: cached, the whole URL in the cache key.
    (segments,) = [b for b in distribution["CacheBehaviors"] if b["PathPattern"] == "*.ts"]
    ((cache_id, cache_policy),) = [(k, r) for k, r in resources(template, "AWS::CloudFront::CachePolicy").items()
                                   if "ReplayCdn" not in k]
    assert segments["CachePolicyId"] == {"Ref": cache_id}
    cache = props(cache_policy)["CachePolicyConfig"]
    assert cache["DefaultTTL"] > 0 and cache["MaxTTL"] >= cache["DefaultTTL"]
    assert cache["ParametersInCacheKeyAndForwardedToOrigin"]["QueryStringsConfig"]["QueryStringBehavior"] == "all"

    # Errors are never cached (a cached 403 would reach viewers with valid tokens).
    assert {e["ErrorCode"]: e["ErrorCachingMinTTL"] for e in distribution["CustomErrorResponses"]} == \
        {code: 0 for code in UNCACHED_ERROR_CODES}
    # Access logs to the stack's log bucket.
    logs_id, _logs = _buckets(template)["logs"]
    assert distribution["Logging"]["Bucket"] == {"Fn::GetAtt": [logs_id, "RegionalDomainName"]}


def test_distribution_without_a_domain_uses_the_default_certificate(synth):
    distribution = _distribution(synth.json("prod", "Media"))
    assert "Aliases" not in distribution
    assert "ViewerCertificate" not in distribution
    acknowledged = {rule for path, rule, _r in nag.acknowledgements(synth.app) if "prod-Media/PlaybackCdn" in path}
    assert acknowledged == {"AwsSolutions-CFR1", "AwsSolutions-CFR2", "AwsSolutions-CFR4"}


def test_distribution_with_a_domain_and_certificate(tmp_path):
    """An alternate domain needs its certificate; then TLS 1.2 (2021) with SNI, and no
    CFR4 acknowledgement. Synthesized with the cdk-nag checks on."""
    # prod with a domain, in an app of its own (a stage is named dev or prod: cdk/config.py)
    config = dataclasses.replace(STAGES["prod"], playback_domain="live.example.com",
                                 playback_certificate_arn=CERTIFICATE)
    app = App(context={**cdk_json_context(), **FEATURE_FLAGS}, outdir=str(tmp_path))
    data = DataStack(app, config.stack_name("Data"), config=config)
    edge = ReplayEdgeStack(app, config.stack_name("ReplayEdge"), config=config, env=Environment(region=EDGE_REGION))
    media = MediaStack(app, config.stack_name("Media"), config=config, data=data, replay_edge=edge)
    nag.add_checks(app)
    assembly = app.synth()   # raises on an unacknowledged finding
    template = assembly.get_stack_by_name(media.stack_name).template
    distribution = _distribution(template)
    assert distribution["Aliases"] == ["live.example.com"]
    assert distribution["ViewerCertificate"] == {"AcmCertificateArn": CERTIFICATE,
                                                 "MinimumProtocolVersion": "TLSv1.2_2021",
                                                 "SslSupportMethod": "sni-only"}
    acknowledged = {rule for path, rule, _r in nag.acknowledgements(app) if "PlaybackCdn" in path}
    assert acknowledged == {"AwsSolutions-CFR1", "AwsSolutions-CFR2"}


@pytest.mark.parametrize("changes, problem", [
    ({"playback_origin_domain": "example.com"}, "not an IVS playback host"),
    ({"playback_domain": "live.example.com"}, "go together"),
    ({"playback_domain": "live.example.com", "playback_certificate_arn": CERTIFICATE.replace("us-east-1", "ap-northeast-1"),
      "playback_origin_domain": "abc.ap-northeast-1.playback.live-video.net"}, "us-east-1"),
    ({"playback_domain": "live.example.com", "playback_certificate_arn": CERTIFICATE}, "needs playback_distribution"),
    ({"recording_reconnect_window_seconds": 301}, "0-300"),
    ({"recording_thumbnail_interval_seconds": 0}, "1-60"),
])
def test_stage_config_rejects_inconsistent_media_settings(changes, problem):
    with pytest.raises(ValueError, match=problem):
        dataclasses.replace(STAGES["dev"], **changes)
    assert isinstance(STAGES["dev"], StageConfig)


# --------------------------------------------------------------------- outputs

def test_outputs(synth, stage):
    outputs = synth.json(stage, "Media")["Outputs"]
    assert {"RecordingConfigurationArn", "PlaybackKeyPairArn", "RecordingsBucketName",
            "PlaybackKeySecretName"} <= set(outputs)
    assert outputs["PlaybackKeySecretName"]["Value"] == f"livecommerce-{stage}/playback-key"
    if synth.config(stage).serves_playback_from_cdn:
        assert {"PlaybackDistributionDomainName", "PlaybackDistributionId"} <= set(outputs)


def test_pii_key_in_the_data_stack(synth, stage):
    template = synth.json(stage, "Data")
    keys = {props(a)["AliasName"]: props(a)["TargetKeyId"]["Fn::GetAtt"][0]
            for a in resources(template, "AWS::KMS::Alias").values()}
    pii = template["Resources"][keys[f"alias/livecommerce-{stage}/pii"]]
    assert props(pii)["EnableKeyRotation"] is True
    assert keys[f"alias/livecommerce-{stage}/pii"] != keys[f"alias/livecommerce-{stage}/data"]
    assert "PiiKeyArn" in template["Outputs"]

"""Issue 16 outcome 4 on AWS: the web clients in a private bucket behind CloudFront with origin
access control, security headers (CSP without inline script or eval, HSTS), the single-page routing
function, the build deployed with config.json, and cdk-nag clean (an unacknowledged finding makes
app.synth() raise). Synthesized on its own, with a stand-in build folder."""
from __future__ import annotations

import json

import pytest
from aws_cdk import App
from aws_cdk.assertions import Template

from cdk import nag
from cdk.config import environment, stages_for
from cdk.stacks.web_stack import CSP, ROUTE_CODE, WebStack
from cdk.stage import FEATURE_FLAGS

pytestmark = pytest.mark.infra


def _synth(tmp_path, *, built: bool) -> dict:
    dist = tmp_path / "dist"
    if built:
        for page in ("console", "watch", "ops"):
            (dist / page).mkdir(parents=True)
            (dist / page / "index.html").write_text("<html></html>")
    app = App(context=FEATURE_FLAGS, outdir=str(tmp_path / "out"))
    config = stages_for("dev")[0]
    stack = WebStack(app, "LiveCommerceDevWeb", config=config, dist=dist, env=environment())
    nag.add_checks(app)
    app.synth()     # raises on any cdk-nag finding not acknowledged with a reason
    return Template.from_stack(stack).to_json()


def _of(template: dict, kind: str) -> list[dict]:
    return [r["Properties"] for r in template["Resources"].values() if r["Type"] == kind]


def test_private_bucket_behind_cloudfront_with_security_headers(tmp_path):
    template = _synth(tmp_path, built=True)
    (distribution,) = [p["DistributionConfig"] for p in _of(template, "AWS::CloudFront::Distribution")]
    assert _of(template, "AWS::CloudFront::OriginAccessControl")
    for origin in distribution["Origins"]:     # the site bucket and the public-covers bucket
        assert "OriginAccessControlId" in origin and origin["S3OriginConfig"].get("OriginAccessIdentity", "") == ""
    for bucket in _of(template, "AWS::S3::Bucket"):
        block = bucket["PublicAccessBlockConfiguration"]
        assert all(block[k] for k in ("BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets"))
    (headers,) = [p["ResponseHeadersPolicyConfig"]["SecurityHeadersConfig"]
                  for p in _of(template, "AWS::CloudFront::ResponseHeadersPolicy")]
    csp = headers["ContentSecurityPolicy"]["ContentSecurityPolicy"]
    assert csp == CSP and "script-src 'self';" in csp and "unsafe" not in csp
    assert headers["StrictTransportSecurity"]["AccessControlMaxAgeSec"] >= 31536000
    assert headers["StrictTransportSecurity"]["IncludeSubdomains"] is True
    assert headers["FrameOptions"]["FrameOption"] == "DENY"
    behaviours = [distribution["DefaultCacheBehavior"], *distribution["CacheBehaviors"]]
    assert all(b["ViewerProtocolPolicy"] == "redirect-to-https" and "ResponseHeadersPolicyId" in b for b in behaviours)
    assert {b["PathPattern"] for b in distribution["CacheBehaviors"]} == {"/web-assets/*", "/config.json", "/covers/*"}
    (route,) = _of(template, "AWS::CloudFront::Function")
    assert route["FunctionCode"] == ROUTE_CODE
    assert distribution["DefaultCacheBehavior"]["FunctionAssociations"][0]["EventType"] == "viewer-request"
    (deployment,) = [r["Properties"] for r in template["Resources"].values() if r["Type"] == "Custom::CDKBucketDeployment"]
    assert deployment["Prune"] is False and len(deployment["SourceObjectKeys"]) == 2
    (written,) = [json.loads(f.read_text()) for f in (tmp_path / "out").glob("asset.*/config.json")]
    assert written == {"api": "https://api.dev.livecommerce.example.com", "stage": "dev", "local": False}


def test_without_a_build_no_deployment_and_still_nag_clean(tmp_path):
    template = _synth(tmp_path, built=False)
    assert not [r for r in template["Resources"].values() if r["Type"] == "Custom::CDKBucketDeployment"]
    assert _of(template, "AWS::CloudFront::Distribution")


def test_public_covers_behind_origin_access_control_with_s3_managed_keys(tmp_path):
    """/covers/* serves the public-covers bucket (rooms.public_covers) through its own OAC origin: a bucket with
    S3-managed keys (OAC needs no KMS key policy), no public access, readable only by this distribution."""
    template = _synth(tmp_path, built=False)
    (distribution,) = [p["DistributionConfig"] for p in _of(template, "AWS::CloudFront::Distribution")]
    behaviours = {b["PathPattern"]: b for b in distribution["CacheBehaviors"]}
    covers = behaviours["/covers/*"]
    assert covers["AllowedMethods"] == ["GET", "HEAD"] and covers["ViewerProtocolPolicy"] == "redirect-to-https"
    assert covers["CachePolicyId"] == "658327ea-f89d-4fab-a63d-7e88639e58f6"      # CachingOptimized (long TTL)
    origins = {o["Id"]: o for o in distribution["Origins"]}
    origin = origins[covers["TargetOriginId"]]
    assert origin["OriginAccessControlId"] and covers["TargetOriginId"] != distribution["DefaultCacheBehavior"][
        "TargetOriginId"]
    (bucket_id,) = [k for k, r in template["Resources"].items()
                    if r["Type"] == "AWS::S3::Bucket" and k.startswith("PublicCoversBucket")]
    assert origin["DomainName"]["Fn::GetAtt"][0] == bucket_id
    bucket = template["Resources"][bucket_id]["Properties"]
    (rule,) = bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule["ServerSideEncryptionByDefault"] == {"SSEAlgorithm": "AES256"}
    assert all(bucket["PublicAccessBlockConfiguration"].values())
    (policy,) = [r["Properties"]["PolicyDocument"] for r in template["Resources"].values()
                 if r["Type"] == "AWS::S3::BucketPolicy" and r["Properties"]["Bucket"] == {"Ref": bucket_id}]
    reads = [s for s in policy["Statement"] if s.get("Principal") == {"Service": "cloudfront.amazonaws.com"}]
    assert [s["Action"] for s in reads] == ["s3:GetObject"], reads
    assert "AWS:SourceArn" in json.dumps(reads[0]["Condition"])

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
    (origin,) = distribution["Origins"]
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
    assert {b["PathPattern"] for b in distribution["CacheBehaviors"]} == {"/web-assets/*", "/config.json"}
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

"""Issue 17 outcome 1 on AWS: the room-entry snapshot behind CloudFront (cdk/constructs/edge_cdn.py)
with a 1-2 s cache keyed on the path alone, nothing of the viewer's request sent to the API,
404s and 5xx cached 1 s, and every other path answered at the edge."""
from __future__ import annotations

import pytest
from aws_cdk.assertions import Match

pytestmark = pytest.mark.infra


def _only(template, kind):
    found = template.find_resources(kind)
    return found


def test_snapshot_distribution_cache_policy_and_origin_request_policy(synth):
    template = synth.template("dev", "Realtime")
    policies = [r["Properties"]["CachePolicyConfig"] for r in _only(template, "AWS::CloudFront::CachePolicy").values()]
    snapshot = next(p for p in policies if p["Name"].endswith("-room-snapshot"))
    assert (snapshot["MinTTL"], snapshot["DefaultTTL"], snapshot["MaxTTL"]) == (1, 1, 2)
    key = snapshot["ParametersInCacheKeyAndForwardedToOrigin"]
    assert key["QueryStringsConfig"] == {"QueryStringBehavior": "none"}
    assert key["CookiesConfig"] == {"CookieBehavior": "none"}
    assert key["HeadersConfig"] == {"HeaderBehavior": "none"}          # no Authorization in the key
    requests = [r["Properties"]["OriginRequestPolicyConfig"]
                for r in _only(template, "AWS::CloudFront::OriginRequestPolicy").values()]
    stripped = next(p for p in requests if p["Name"].endswith("-room-snapshot"))
    assert stripped["QueryStringsConfig"] == {"QueryStringBehavior": "none"}
    assert stripped["HeadersConfig"] == {"HeaderBehavior": "none"}
    assert stripped["CookiesConfig"] == {"CookieBehavior": "none"}

    (distribution,) = [r["Properties"]["DistributionConfig"]
                       for r in _only(template, "AWS::CloudFront::Distribution").values()]
    behaviours = {b["PathPattern"]: b for b in distribution["CacheBehaviors"]}
    assert set(behaviours) == {"/v1/rooms/*/snapshot", "/v1/rooms/*/feed"}
    behaviour = behaviours["/v1/rooms/*/snapshot"]
    feed = next(p for p in policies if p["Name"].endswith("-room-feed"))
    assert feed["ParametersInCacheKeyAndForwardedToOrigin"]["QueryStringsConfig"] == {
        "QueryStringBehavior": "whitelist", "QueryStrings": ["seq"]}
    assert feed["ParametersInCacheKeyAndForwardedToOrigin"]["HeadersConfig"] == {"HeaderBehavior": "none"}
    assert behaviour["ViewerProtocolPolicy"] == "https-only"
    assert behaviour["AllowedMethods"] == ["GET", "HEAD"]
    # Negative caching: a 404 (test room, no room) and 5xx are kept 1 s like the snapshot.
    errors = {e["ErrorCode"]: e["ErrorCachingMinTTL"] for e in distribution["CustomErrorResponses"]}
    assert errors == {404: 1, 500: 1, 502: 1, 503: 1, 504: 1}
    # Every other path: a CloudFront Function answers 404 before the origin.
    default = distribution["DefaultCacheBehavior"]
    assert default["FunctionAssociations"][0]["EventType"] == "viewer-request"
    (function,) = _only(template, "AWS::CloudFront::Function").values()
    assert "statusCode: 404" in function["Properties"]["FunctionCode"]
    # The origin is the REST API's stage over HTTPS.
    (origin,) = distribution["Origins"]
    assert origin["CustomOriginConfig"]["OriginProtocolPolicy"] == "https-only"
    assert origin["OriginPath"] != Match.absent()

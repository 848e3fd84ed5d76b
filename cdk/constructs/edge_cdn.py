"""CloudFront in front of the REST API for what every viewer of a room loads alike: the
room-entry snapshot (`GET /v1/rooms/{room_id}/snapshot`, issue 17 outcome 1) and a big room's
crowd danmaku pages (`GET /v1/rooms/{room_id}/feed?seq=N`, outcome 4: keyed on `seq` alone).

A crowd entering a live room would otherwise be one Lambda invocation per viewer; here each
edge refreshes a room's snapshot from the origin at most about once per TTL, however many
viewers arrive:

- cache policy: TTL min 1 s, default 1 s, max 2 s; the origin's `Cache-Control: public,
  max-age=1, stale-while-revalidate=2` is honoured (CloudFront serves the stale copy while one
  request refreshes it). The cache key is the path alone: no query string, no cookie, no
  header (Authorization above all), so a cache-busting `?x=<random>` is the same entry;
- origin request policy: nothing of the viewer's request goes to the origin (no query string,
  header or cookie), so nothing per viewer can shape the cached answer;
- errors: a 404 (a test room, which the snapshot answers 404 to everyone, or no such room) is
  cached 1 s like the snapshot (negative caching), and so are 5xx answers, so a flood for a
  room that does not exist or a failing origin is still one request per second per edge;
- every other path is answered 404 at the edge by a CloudFront Function: the distribution
  serves the snapshot only (the rest of the API is not cacheable and stays on API Gateway).

The local stack reproduces this with nginx proxy_cache (local/edge_cache.py).
"""
from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudfront_origins as origins
from aws_cdk import aws_s3 as s3
from constructs import Construct

from cdk import nag

SNAPSHOT_PATH_PATTERN = "/v1/rooms/*/snapshot"
FEED_PATH_PATTERN = "/v1/rooms/*/feed"
MIN_TTL_SECONDS = 1
DEFAULT_TTL_SECONDS = 1
MAX_TTL_SECONDS = 2
ERROR_CACHING_SECONDS = 1
CACHED_ERROR_CODES = (404, 500, 502, 503, 504)

# Anything but the snapshot: answered at the edge, never sent to the API.
NOT_SERVED_HERE = """function handler(event) {
  return {
    statusCode: 404,
    statusDescription: 'Not Found',
    headers: {
      'content-type': { value: 'application/problem+json' },
      'cache-control': { value: 'public, max-age=60' }
    },
    body: '{"type":"https://errors.livecommerce.example/route_not_found","title":"Not found",' +
          '"status":404,"code":"route_not_found","detail":"The edge serves room snapshots only."}'
  };
}
"""


class EdgeDistribution(Construct):
    def __init__(self, scope: Construct, id: str, *, prefix: str, rest_api: apigw.RestApi,
                 log_bucket: s3.IBucket) -> None:
        super().__init__(scope, id)
        origin = origins.RestApiOrigin(rest_api)      # HTTPS only, TLS 1.2 (API Gateway)
        self.cache_policy = cloudfront.CachePolicy(
            self,
            "SnapshotCache",
            cache_policy_name=f"{prefix}-room-snapshot",
            comment="Room-entry snapshot: 1-2 s, the path alone as the key (no query string, cookie or header)",
            min_ttl=Duration.seconds(MIN_TTL_SECONDS),
            default_ttl=Duration.seconds(DEFAULT_TTL_SECONDS),
            max_ttl=Duration.seconds(MAX_TTL_SECONDS),
            query_string_behavior=cloudfront.CacheQueryStringBehavior.none(),
            header_behavior=cloudfront.CacheHeaderBehavior.none(),
            cookie_behavior=cloudfront.CacheCookieBehavior.none(),
            enable_accept_encoding_gzip=True,
            enable_accept_encoding_brotli=True,
        )
        self.origin_request_policy = cloudfront.OriginRequestPolicy(
            self,
            "SnapshotOriginRequest",
            origin_request_policy_name=f"{prefix}-room-snapshot",
            comment="Nothing of the viewer's request reaches the API: no query string, header or cookie",
            query_string_behavior=cloudfront.OriginRequestQueryStringBehavior.none(),
            header_behavior=cloudfront.OriginRequestHeaderBehavior.none(),
            cookie_behavior=cloudfront.OriginRequestCookieBehavior.none(),
        )
        # The crowd's danmaku pages of a big room (poll mode): keyed and forwarded on `seq` alone.
        self.feed_cache_policy = cloudfront.CachePolicy(
            self,
            "FeedCache",
            cache_policy_name=f"{prefix}-room-feed",
            comment="Room danmaku feed pages: 1 s, the path and seq as the key",
            min_ttl=Duration.seconds(MIN_TTL_SECONDS),
            default_ttl=Duration.seconds(DEFAULT_TTL_SECONDS),
            max_ttl=Duration.seconds(MAX_TTL_SECONDS),
            query_string_behavior=cloudfront.CacheQueryStringBehavior.allow_list("seq"),
            header_behavior=cloudfront.CacheHeaderBehavior.none(),
            cookie_behavior=cloudfront.CacheCookieBehavior.none(),
            enable_accept_encoding_gzip=True,
            enable_accept_encoding_brotli=True,
        )
        self.not_served = cloudfront.Function(
            self,
            "NotServedHere",
            function_name=f"{prefix}-edge-not-served",
            comment="Every path but the room snapshot: 404 at the edge",
            code=cloudfront.FunctionCode.from_inline(NOT_SERVED_HERE),
            runtime=cloudfront.FunctionRuntime.JS_2_0,
        )
        snapshot = cloudfront.BehaviorOptions(
            origin=origin,
            viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.HTTPS_ONLY,
            allowed_methods=cloudfront.AllowedMethods.ALLOW_GET_HEAD,
            cached_methods=cloudfront.CachedMethods.CACHE_GET_HEAD,
            cache_policy=self.cache_policy,
            origin_request_policy=self.origin_request_policy,
            compress=True,
        )
        self.distribution = cloudfront.Distribution(
            self,
            "Distribution",
            comment=f"{prefix} room-entry snapshots (API origin, 1-2 s cache)",
            default_behavior=cloudfront.BehaviorOptions(
                origin=origin,
                viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.HTTPS_ONLY,
                allowed_methods=cloudfront.AllowedMethods.ALLOW_GET_HEAD,
                cache_policy=cloudfront.CachePolicy.CACHING_DISABLED,
                origin_request_policy=self.origin_request_policy,
                function_associations=[cloudfront.FunctionAssociation(
                    function=self.not_served, event_type=cloudfront.FunctionEventType.VIEWER_REQUEST)],
            ),
            additional_behaviors={
                SNAPSHOT_PATH_PATTERN: snapshot,
                FEED_PATH_PATTERN: cloudfront.BehaviorOptions(
                    origin=origin,
                    viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.HTTPS_ONLY,
                    allowed_methods=cloudfront.AllowedMethods.ALLOW_GET_HEAD,
                    cache_policy=self.feed_cache_policy,
                    # Query strings in the cache key are forwarded by the cache policy itself.
                    origin_request_policy=self.origin_request_policy,
                    compress=True,
                ),
            },
            error_responses=[cloudfront.ErrorResponse(http_status=code, ttl=Duration.seconds(ERROR_CACHING_SECONDS))
                             for code in CACHED_ERROR_CODES],
            http_version=cloudfront.HttpVersion.HTTP2_AND_3,
            price_class=cloudfront.PriceClass.PRICE_CLASS_200,
            enable_logging=True,
            log_bucket=log_bucket,
            log_file_prefix="cloudfront/edge/",
            log_includes_cookies=False,
        )
        nag.acknowledge(
            self.distribution, "AwsSolutions-CFR1",
            "The snapshot is public by design (what any viewer of a public live room sees); a test room is 404 "
            "at the origin for everyone, so there is nothing to restrict by geography.")
        nag.acknowledge(
            self.distribution, "AwsSolutions-CFR2",
            "The distribution serves one cached, public, read-only path whose origin is the REST API, which "
            "carries the regional WAF web ACL (api stack); a CloudFront web ACL would have to live in "
            "us-east-1 and would bill every cached request for no added protection.")
        nag.acknowledge(
            self.distribution, "AwsSolutions-CFR4",
            "No custom domain is configured for the edge distribution, so it uses CloudFront's default "
            "*.cloudfront.net certificate, whose viewer TLS policy CloudFront fixes; viewers use HTTPS only.")

    @property
    def domain_name(self) -> str:
        return self.distribution.distribution_domain_name

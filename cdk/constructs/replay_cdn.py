"""The replay distribution: CloudFront in front of the recordings bucket, with origin access
control (the bucket stays private; its policy lets only this distribution read), serving what a
replay player needs and nothing else: ``/t/<token>/ivs/v1/...`` URLs of objects ending in ``.m3u8``
(recorded playlists, clip playlists), ``.ts`` (segments) and ``.jpg`` (thumbnails). Their behaviours
(``t/*.m3u8|ts|jpg``) run the replay edge function (Lambda@Edge, viewer-request; the us-east-1
stack cdk/stacks/replay_edge_stack.py): it verifies the token for the key and rewrites the URI to
the bare key, so the cache key and the origin request are the object's key, the same for every
viewer. A bad or missing token is 403 there; any other path is 403 at the edge (the default
behaviour is a CloudFront Function that refuses; docs/replays.md).

The edge function's version ARN comes from an SSM parameter in us-east-1 that the edge stack
writes, read by ``EdgeVersionReader`` (a custom resource calling ssm:GetParameter in us-east-1):
CloudFormation exports do not cross regions, and the stacks are region-agnostic at synth.

Playlists are cached briefly (a clip's playlists are written once, a replay's master never
changes; 60 s bounds a re-cut), segments and thumbnails a day (they never change). CORS: any
origin may play (the mini-program's player sends none; the web console's hls.js does).
The functions get ``REPLAY_BASE_URL`` = ``https://<distribution domain>``.
"""
from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudfront_origins as origins
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import custom_resources as cr
from constructs import Construct

from cdk import nag

# Token URLs only: /t/<token>/ivs/v1/<...>.m3u8|ts|jpg (the edge function checks the rest of the key).
SERVED = ("t/*.m3u8", "t/*.ts", "t/*.jpg")
REFUSE_CODE = """function handler(event) {
    return {statusCode: 403, statusDescription: 'Forbidden'};
}"""


class EdgeVersionReader(Construct):
    """The replay edge function's published version, read from its SSM parameter in us-east-1 by a
    custom resource (ssm:GetParameter on that one parameter). `refresh` (the edge bundle's digest)
    is part of the physical id, so a new bundle (a new version) makes CloudFormation read again."""

    def __init__(self, scope: Construct, id: str, *, parameter_name: str, parameter_arn: str, region: str,
                 refresh: str, log_retention: logs.RetentionDays, removal_policy: RemovalPolicy) -> None:
        super().__init__(scope, id)
        # Its own role and log group, not the AWSLambdaBasicExecutionRole managed policy.
        role = iam.Role(self, "Role", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
                        description="Reads the replay edge function's version ARN (SSM, us-east-1) at deploy")
        log_group = logs.LogGroup(self, "Logs", retention=log_retention, removal_policy=removal_policy)
        log_group.grant_write(role)
        self.resource = cr.AwsCustomResource(
            self, "Read",
            resource_type="Custom::ReplayEdgeVersion",
            on_update=cr.AwsSdkCall(   # also the create call
                service="SSM", action="getParameter", parameters={"Name": parameter_name}, region=region,
                physical_resource_id=cr.PhysicalResourceId.of(f"{parameter_name}@{refresh}")),
            policy=cr.AwsCustomResourcePolicy.from_statements([iam.PolicyStatement(
                actions=["ssm:GetParameter"], resources=[parameter_arn])]),
            role=role, log_group=log_group, install_latest_aws_sdk=False, timeout=Duration.minutes(2))
        self.version_arn = self.resource.get_response_field("Parameter.Value")
        self.version = lambda_.Version.from_version_arn(self, "Version", self.version_arn)


class ReplayDistribution(Construct):
    def __init__(self, scope: Construct, id: str, *, bucket: s3.IBucket, log_bucket: s3.IBucket,
                 prefix: str, edge_version: lambda_.IVersion) -> None:
        super().__init__(scope, id)
        origin = origins.S3BucketOrigin.with_origin_access_control(
            bucket, origin_access_levels=[cloudfront.AccessLevel.READ])
        refuse = cloudfront.Function(self, "Refuse", code=cloudfront.FunctionCode.from_inline(REFUSE_CODE),
                                     runtime=cloudfront.FunctionRuntime.JS_2_0,
                                     comment=f"{prefix}: the replay distribution serves t/*.m3u8|ts|jpg only")
        playlists = cloudfront.CachePolicy(
            self, "PlaylistCache", cache_policy_name=f"{prefix}-replay-playlists",
            default_ttl=Duration.seconds(60), min_ttl=Duration.seconds(0), max_ttl=Duration.seconds(60),
            enable_accept_encoding_gzip=True, enable_accept_encoding_brotli=True)
        media = cloudfront.CachePolicy(
            self, "MediaCache", cache_policy_name=f"{prefix}-replay-media",
            default_ttl=Duration.days(1), min_ttl=Duration.days(1), max_ttl=Duration.days(365))

        def behaviour(cache: cloudfront.ICachePolicy) -> cloudfront.BehaviorOptions:
            return cloudfront.BehaviorOptions(
                origin=origin, viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.HTTPS_ONLY,
                allowed_methods=cloudfront.AllowedMethods.ALLOW_GET_HEAD_OPTIONS, cache_policy=cache,
                response_headers_policy=cloudfront.ResponseHeadersPolicy.CORS_ALLOW_ALL_ORIGINS,
                # Checks /t/<token>/<key> and strips the token: the cache key is the object key.
                edge_lambdas=[cloudfront.EdgeLambda(
                    event_type=cloudfront.LambdaEdgeEventType.VIEWER_REQUEST, function_version=edge_version,
                    include_body=False)])

        self.distribution = cloudfront.Distribution(
            self, "Distribution",
            comment=f"{prefix}: replays and clips (recordings bucket, origin access control)",
            default_behavior=cloudfront.BehaviorOptions(
                origin=origin, viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.HTTPS_ONLY,
                cache_policy=cloudfront.CachePolicy.CACHING_DISABLED,
                function_associations=[cloudfront.FunctionAssociation(
                    function=refuse, event_type=cloudfront.FunctionEventType.VIEWER_REQUEST)]),
            additional_behaviors={pattern: behaviour(playlists if pattern.endswith(".m3u8") else media)
                                  for pattern in SERVED},
            http_version=cloudfront.HttpVersion.HTTP2_AND_3,
            price_class=cloudfront.PriceClass.PRICE_CLASS_200,
            enable_logging=True, log_bucket=log_bucket, log_file_prefix="cloudfront/replays/",
            log_includes_cookies=False,
        )
        nag.acknowledge(self.distribution, "AwsSolutions-CFR1",
                        "Replays are watched from anywhere the platform allows, like the live; country limits, "
                        "if ever needed, belong to the room, not to CloudFront geography.")
        nag.acknowledge(self.distribution, "AwsSolutions-CFR2",
                        "The distribution serves only recorded playlists, segments and thumbnails (immutable, "
                        "cached) from a private bucket through origin access control; a CloudFront web ACL "
                        "would have to live in us-east-1 and would bill every segment request. The API, where "
                        "replay URLs are handed out, is behind WAF (api stack).")
        nag.acknowledge(self.distribution, "AwsSolutions-CFR4",
                        "The replay distribution uses CloudFront's default *.cloudfront.net certificate (no "
                        "replay domain is configured), whose viewer policy CloudFront fixes; HTTPS only.")

    @property
    def base_url(self) -> str:
        return f"https://{self.distribution.distribution_domain_name}"

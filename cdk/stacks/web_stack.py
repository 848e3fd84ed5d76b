"""The web clients on AWS: web/dist (`make web`) in a private S3 bucket behind CloudFront with origin
access control, and the security headers the local stack sends too (local/web_static.py).

  /console/*, /watch/*, /ops/*   the pages (a CloudFront Function maps every path below a page to its
                                 index.html: /watch/<room> is the viewer page of that room)
  /web-assets/*                  hashed bundles, cached for a year
  /config.json                   the API's public base and the stage (written by the deployment)
  /covers/*                      public rooms' cover images: the public-covers bucket (S3-managed keys, so
                                 OAC needs no KMS key policy), written only by the rooms function
                                 (rooms.public_covers: one immutable key per upload), cached for a year

Response headers policy: CSP (scripts and styles from this origin only, no inline script, no eval;
connections over https/wss to the API, IoT Core and the playback and replay domains), HSTS two years
with subdomains, nosniff, frame options DENY, a strict referrer policy.
"""
from __future__ import annotations

from pathlib import Path

from aws_cdk import Annotations, CfnOutput, Duration, Stack
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudfront_origins as origins
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_deployment as s3deploy
from constructs import Construct

from cdk import nag
from cdk.config import StageConfig
from cdk.constructs.secure_bucket import SecureBucket

WEB_DIST = Path(__file__).resolve().parents[2] / "web" / "dist"
PAGES = ("console", "watch", "ops")
COVERS_PATH = "/covers/*"      # the public-covers bucket's keys are covers/<room_id>/<upload_id>
CSP = "; ".join((
    "default-src 'self'", "script-src 'self'", "style-src 'self'", "img-src 'self' data: blob: https:",
    "media-src 'self' blob: https:", "connect-src 'self' https: wss:", "worker-src 'self' blob:",
    "font-src 'self' data:", "object-src 'none'", "base-uri 'self'", "form-action 'self'", "frame-ancestors 'none'",
))
# Every path below a page is that page (a single-page app); assets and config.json pass through.
ROUTE_CODE = """function handler(event) {
    var request = event.request;
    var top = request.uri.split('/')[1];
    if (top === 'console' || top === 'watch' || top === 'ops') {
        request.uri = '/' + top + '/index.html';
    } else if (request.uri === '/' || request.uri === '') {
        request.uri = '/watch/index.html';
    }
    return request;
}"""


class WebStack(Stack):
    def __init__(self, scope: Construct, id: str, *, config: StageConfig, dist: Path = WEB_DIST, **kwargs) -> None:
        super().__init__(scope, id, **kwargs)
        prefix = config.prefix
        logs = SecureBucket(self, "LogsBucket", removal_policy=config.removal_policy, noncurrent_version_days=1,
                            expiration_days=config.access_log_expiry_days,
                            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_PREFERRED).bucket
        self.bucket = SecureBucket(self, "SiteBucket", removal_policy=config.removal_policy,
                                   noncurrent_version_days=config.noncurrent_version_days,
                                   access_logs_bucket=logs, access_logs_prefix="site/").bucket
        origin = origins.S3BucketOrigin.with_origin_access_control(
            self.bucket, origin_access_levels=[cloudfront.AccessLevel.READ])
        # Public rooms' covers, copied there by the rooms function (api stack: PutObject under covers/ only).
        self.covers_bucket = SecureBucket(self, "PublicCoversBucket", removal_policy=config.removal_policy,
                                          noncurrent_version_days=1, access_logs_bucket=logs,
                                          access_logs_prefix="public-covers/").bucket
        covers_origin = origins.S3BucketOrigin.with_origin_access_control(
            self.covers_bucket, origin_access_levels=[cloudfront.AccessLevel.READ])
        self.headers = cloudfront.ResponseHeadersPolicy(
            self, "SecurityHeaders", response_headers_policy_name=f"{prefix}-web-security",
            security_headers_behavior=cloudfront.ResponseSecurityHeadersBehavior(
                content_security_policy=cloudfront.ResponseHeadersContentSecurityPolicy(
                    content_security_policy=CSP, override=True),
                strict_transport_security=cloudfront.ResponseHeadersStrictTransportSecurity(
                    access_control_max_age=Duration.days(730), include_subdomains=True, preload=True, override=True),
                content_type_options=cloudfront.ResponseHeadersContentTypeOptions(override=True),
                frame_options=cloudfront.ResponseHeadersFrameOptions(
                    frame_option=cloudfront.HeadersFrameOption.DENY, override=True),
                referrer_policy=cloudfront.ResponseHeadersReferrerPolicy(
                    referrer_policy=cloudfront.HeadersReferrerPolicy.STRICT_ORIGIN_WHEN_CROSS_ORIGIN, override=True)))
        route = cloudfront.Function(self, "Route", code=cloudfront.FunctionCode.from_inline(ROUTE_CODE),
                                    runtime=cloudfront.FunctionRuntime.JS_2_0,
                                    comment=f"{prefix}: /console/*, /watch/*, /ops/* to their index.html")
        pages = cloudfront.CachePolicy(self, "PageCache", cache_policy_name=f"{prefix}-web-pages",
                                       default_ttl=Duration.seconds(60), min_ttl=Duration.seconds(0),
                                       max_ttl=Duration.minutes(5), enable_accept_encoding_gzip=True,
                                       enable_accept_encoding_brotli=True)

        def behaviour(cache: cloudfront.ICachePolicy, functions=None) -> cloudfront.BehaviorOptions:
            return cloudfront.BehaviorOptions(
                origin=origin, viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
                allowed_methods=cloudfront.AllowedMethods.ALLOW_GET_HEAD, cache_policy=cache, compress=True,
                response_headers_policy=self.headers, function_associations=functions or [])

        routed = [cloudfront.FunctionAssociation(function=route, event_type=cloudfront.FunctionEventType.VIEWER_REQUEST)]
        self.distribution = cloudfront.Distribution(
            self, "Distribution", comment=f"{prefix}: web clients (host console, viewer page, operations)",
            default_behavior=behaviour(pages, routed),
            additional_behaviors={"/web-assets/*": behaviour(cloudfront.CachePolicy.CACHING_OPTIMIZED),
                                  "/config.json": behaviour(cloudfront.CachePolicy.CACHING_DISABLED),
                                  COVERS_PATH: cloudfront.BehaviorOptions(
                                      origin=covers_origin, cache_policy=cloudfront.CachePolicy.CACHING_OPTIMIZED,
                                      viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
                                      allowed_methods=cloudfront.AllowedMethods.ALLOW_GET_HEAD, compress=True,
                                      response_headers_policy=self.headers)},
            http_version=cloudfront.HttpVersion.HTTP2_AND_3, price_class=cloudfront.PriceClass.PRICE_CLASS_200,
            minimum_protocol_version=cloudfront.SecurityPolicyProtocol.TLS_V1_2_2021,
            enable_logging=True, log_bucket=logs, log_file_prefix="cloudfront/web/", log_includes_cookies=False)
        nag.acknowledge(self.distribution, "AwsSolutions-CFR1",
                        "Hosts, viewers and operators use the pages from wherever the platform operates; country "
                        "limits belong to the business, not to CloudFront geography.")
        nag.acknowledge(self.distribution, "AwsSolutions-CFR2",
                        "The distribution serves static, hashed files from a private bucket through origin access "
                        "control; every call with an effect goes to the API, which is behind WAF (api stack).")
        nag.acknowledge(self.distribution, "AwsSolutions-CFR4",
                        "The web distribution uses CloudFront's default *.cloudfront.net certificate (no web domain "
                        "is configured), whose viewer TLS policy CloudFront fixes; viewers are redirected to HTTPS.")

        config_json = {"api": config.api_public_base, "stage": config.name, "local": False}
        if (dist / "watch" / "index.html").is_file():
            deployment = s3deploy.BucketDeployment(
                self, "Deploy", destination_bucket=self.bucket, distribution=self.distribution,
                distribution_paths=["/console/*", "/watch/*", "/ops/*", "/config.json"],
                sources=[s3deploy.Source.asset(str(dist), exclude=[".stamp-*"]),
                         s3deploy.Source.json_data("config.json", config_json)],
                prune=False, memory_limit=512)   # keep older hashed bundles: open pages still load them
            nag.acknowledge(self, "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
                                  "AWSLambdaBasicExecutionRole]",
                            "The CDK BucketDeployment function only writes its own logs; the AWS managed basic "
                            "execution policy is what CDK attaches to its provider function.")
            nag.acknowledge(self, "AwsSolutions-IAM5[Action::s3:GetObject*]",
                            "BucketDeployment copies the build from the CDK asset bucket: read on the asset objects.")
            nag.acknowledge(self, "AwsSolutions-IAM5[Action::s3:GetBucket*]",
                            "BucketDeployment reads the asset bucket's location while copying the build.")
            nag.acknowledge(self, "AwsSolutions-IAM5[Action::s3:List*]",
                            "BucketDeployment lists the asset and site buckets to sync the build.")
            nag.acknowledge(self, "AwsSolutions-IAM5[Action::s3:DeleteObject*]",
                            "BucketDeployment may replace objects of the site bucket (pages, config.json).")
            nag.acknowledge(self, "AwsSolutions-IAM5[Action::s3:Abort*]",
                            "BucketDeployment aborts its own failed multipart uploads to the site bucket.")
            nag.acknowledge(self, "AwsSolutions-IAM5[Resource::*]",
                            "BucketDeployment creates a CloudFront invalidation, an action without resource-level "
                            "permissions, so its policy names every distribution.")
            nag.acknowledge(self, "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::cdk-hnb659fds-assets-"
                                  "<AWS::AccountId>-<AWS::Region>/*]",
                            "BucketDeployment reads the build's zip from the CDK bootstrap asset bucket; the object "
                            "key is a content hash known only at synth, so the policy names the bucket's objects.")
            site_arn = nag.flatten(self, self.bucket.bucket_arn)
            nag.acknowledge(self, f"AwsSolutions-IAM5[Resource::{site_arn}/*]",
                            "BucketDeployment writes the pages, bundles and config.json: every object of the site "
                            "bucket, which holds nothing else.")
            nag.acknowledge(self, "AwsSolutions-L1",
                            "The runtime of CDK's BucketDeployment provider function is chosen by the CDK release "
                            "pinned in requirements.txt, not by this project.")
            self.deployment = deployment
        else:
            self.deployment = None
            Annotations.of(self).add_warning_v2("livecommerce:web-not-built",
                                                f"{dist} has no build: run `make web` before deploying the web stack")
        self.covers_base_url = f"https://{self.distribution.distribution_domain_name}"
        # A named export: the API stack's grant under <arn>/covers/* (and its cdk-nag finding) stays readable
        self.covers_bucket_arn_import = self.export_value(
            self.covers_bucket.bucket_arn, name=f"{self.stack_name}-PublicCoversBucketArn")
        CfnOutput(self, "PublicCoversBucketName", value=self.covers_bucket.bucket_name)
        CfnOutput(self, "WebUrl", value=f"https://{self.distribution.distribution_domain_name}",
                  description="The web clients: /console/, /watch/<room>, /ops/")

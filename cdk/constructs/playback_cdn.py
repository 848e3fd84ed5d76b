"""CloudFront in front of IVS playback, so viewers play from the operator's own
domain (mini-programs only play media from domains filed with the platform).

Origin: the account's IVS playback host, HTTPS (TLS 1.2) only. Viewers: HTTPS
only. Behaviours:

- default (multivariant and variant playlists, *.m3u8, and anything unknown):
  not cached. Every query string goes to IVS, `token` (the signed playback
  token) above all; a playlist is per viewer and changes every second, so a
  shared cache would only serve one viewer's token to another;
- *.ts (media segments): cached (immutable once written); every query string is
  part of the cache key, so nothing IVS puts in a segment URL is lost.

Error responses are not cached (error caching TTL 0): the default behaviour's
cache key has no query string, so a cached 403 (one bad token) would otherwise
be served to every viewer for 10 s.

Access logs go to the media stack's log bucket. With an ACM certificate
(us-east-1) and an alternate domain name the viewer policy is TLS 1.2 (2021);
without one CloudFront's default certificate serves *.cloudfront.net.
"""
from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudfront_origins as origins
from aws_cdk import aws_s3 as s3
from constructs import Construct

from cdk import nag
from cdk.config import StageConfig

PLAYBACK_TOKEN_PARAMETER = "token"
SEGMENT_PATH_PATTERNS = ("*.ts",)
UNCACHED_ERROR_CODES = (400, 403, 404, 405, 414, 416, 500, 501, 502, 503, 504)


class PlaybackDistribution(Construct):
    def __init__(self, scope: Construct, id: str, *, config: StageConfig, log_bucket: s3.IBucket,
                 origin_domain: str | None = None) -> None:
        """`origin_domain`: the IVS playback host (default config.playback_origin_domain; the media
        stack passes the one it derives from a channel when the config names none)."""
        super().__init__(scope, id)
        origin_domain = origin_domain or config.playback_origin_domain
        if not origin_domain:
            raise ValueError("PlaybackDistribution needs the IVS playback host (config.playback_origin_domain "
                             "or a derived one)")
        prefix = config.prefix
        origin = origins.HttpOrigin(
            origin_domain,
            protocol_policy=cloudfront.OriginProtocolPolicy.HTTPS_ONLY,
            origin_ssl_protocols=[cloudfront.OriginSslPolicy.TLS_V1_2],
        )
        # Playlists: not cached, every query string (the token) and the browser's Origin
        # (IVS answers CORS from the token's allowed origins) go to IVS.
        self.playlist_requests = cloudfront.OriginRequestPolicy(
            self,
            "PlaylistRequests",
            origin_request_policy_name=f"{prefix}-playback-playlists",
            comment="IVS playlists: forward the playback token (all query strings) and Origin",
            query_string_behavior=cloudfront.OriginRequestQueryStringBehavior.all(),
            header_behavior=cloudfront.OriginRequestHeaderBehavior.allow_list("Origin"),
            cookie_behavior=cloudfront.OriginRequestCookieBehavior.none(),
        )
        self.segment_cache = cloudfront.CachePolicy(
            self,
            "SegmentCache",
            cache_policy_name=f"{prefix}-playback-segments",
            comment="IVS media segments: cached, full URL (query strings included) as the key",
            min_ttl=Duration.seconds(0),
            default_ttl=Duration.hours(1),
            max_ttl=Duration.days(1),
            query_string_behavior=cloudfront.CacheQueryStringBehavior.all(),
            header_behavior=cloudfront.CacheHeaderBehavior.none(),
            cookie_behavior=cloudfront.CacheCookieBehavior.none(),
            enable_accept_encoding_gzip=False,   # video is compressed already
            enable_accept_encoding_brotli=False,
        )
        custom_domain = bool(config.playback_domain)
        self.distribution = cloudfront.Distribution(
            self,
            "Distribution",
            comment=f"{prefix} live playback from IVS",
            default_behavior=cloudfront.BehaviorOptions(
                origin=origin,
                viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.HTTPS_ONLY,
                allowed_methods=cloudfront.AllowedMethods.ALLOW_GET_HEAD,
                cache_policy=cloudfront.CachePolicy.CACHING_DISABLED,
                origin_request_policy=self.playlist_requests,
                compress=False,  # not cached, so CloudFront cannot compress; IVS answers as it does
            ),
            additional_behaviors={
                pattern: cloudfront.BehaviorOptions(
                    origin=origin,
                    viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.HTTPS_ONLY,
                    allowed_methods=cloudfront.AllowedMethods.ALLOW_GET_HEAD,
                    cache_policy=self.segment_cache,
                    compress=False,
                )
                for pattern in SEGMENT_PATH_PATTERNS
            },
            error_responses=[cloudfront.ErrorResponse(http_status=code, ttl=Duration.seconds(0))
                             for code in UNCACHED_ERROR_CODES],
            domain_names=[config.playback_domain] if custom_domain else None,
            certificate=acm.Certificate.from_certificate_arn(self, "Certificate", config.playback_certificate_arn)
            if custom_domain else None,
            minimum_protocol_version=cloudfront.SecurityPolicyProtocol.TLS_V1_2_2021 if custom_domain else None,
            ssl_support_method=cloudfront.SSLMethod.SNI if custom_domain else None,
            http_version=cloudfront.HttpVersion.HTTP2_AND_3,
            # Viewers are in East Asia; class 200 has those edges and leaves out the dearest ones.
            price_class=cloudfront.PriceClass.PRICE_CLASS_200,
            enable_logging=True,
            log_bucket=log_bucket,
            log_file_prefix="cloudfront/playback/",
            log_includes_cookies=False,
        )

        nag.acknowledge(
            self.distribution,
            "AwsSolutions-CFR1",
            "Viewers may watch from anywhere the platform allows; access is controlled per viewer by IVS "
            "(private channels, ES384 playback tokens that expire within 10 minutes, and IVS playback "
            "restriction policies if country limits are ever needed), not by CloudFront geography.",
        )
        nag.acknowledge(
            self.distribution,
            "AwsSolutions-CFR2",
            "Every playlist request carries a signed, short-lived IVS playback token that IVS itself verifies, "
            "and segment URLs are only learned from such a playlist. A CloudFront web ACL would have to live in us-east-1 (another "
            "stack and region) and would bill every video segment request for no added protection. The API, "
            "where tokens are issued, is behind WAF (api stack).",
        )
        if not custom_domain:
            nag.acknowledge(
                self.distribution,
                "AwsSolutions-CFR4",
                "No playback domain and certificate are configured for this stage (playback_domain, "
                "playback_certificate_arn), so the distribution uses CloudFront's default *.cloudfront.net "
                "certificate, whose viewer policy CloudFront fixes at TLSv1. Configuring the domain switches "
                "to SNI with TLSv1.2_2021.",
            )

    @property
    def domain_name(self) -> str:
        return self.distribution.distribution_domain_name

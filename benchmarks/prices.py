"""Published AWS list prices used by benchmarks/cost.py, in one place (USD).

Region: ap-northeast-1 (Tokyo), the region the project deploys to (cdk/config.py: its IVS playback
host and the tests' region). On-demand list prices as published on each service's pricing page
(first tier, no free tier, no commitment discounts); `checked` says whether the Tokyo figure was
read for this table or the us-east-1 list price is used as the stand-in (Tokyo is usually equal
or up to ~25 % higher: read the page before relying on a figure within that margin).
"""
from __future__ import annotations

REGION = "ap-northeast-1"

# name: (price in USD, unit, pricing page, Tokyo figure checked)
PRICES: dict[str, tuple[float, str, str, bool]] = {
    "apigw_request": (4.25 / 1e6, "REST API request", "https://aws.amazon.com/api-gateway/pricing/", True),
    "lambda_request": (0.20 / 1e6, "invocation", "https://aws.amazon.com/lambda/pricing/", True),
    "lambda_gb_second": (0.0000166667, "GB-second (x86)", "https://aws.amazon.com/lambda/pricing/", True),
    "dynamodb_wru": (0.715 / 1e6, "on-demand write request unit",
                     "https://aws.amazon.com/dynamodb/pricing/on-demand/", False),
    "dynamodb_rru": (0.1425 / 1e6, "on-demand read request unit",
                     "https://aws.amazon.com/dynamodb/pricing/on-demand/", False),
    "iot_message": (1.00 / 1e6, "IoT Core message (5 KB unit), in or delivered",
                    "https://aws.amazon.com/iot-core/pricing/", False),
    "iot_connection_minute": (0.08 / 1e6, "connection-minute", "https://aws.amazon.com/iot-core/pricing/", False),
    "eventbridge_event": (1.00 / 1e6, "custom event put", "https://aws.amazon.com/eventbridge/pricing/", False),
    "firehose_gb": (0.029, "GB ingested (records rounded up to 5 KB)",
                    "https://aws.amazon.com/firehose/pricing/", False),
    "s3_put": (0.0047 / 1000, "PUT/POST/LIST request", "https://aws.amazon.com/s3/pricing/", True),
    "s3_get": (0.00037 / 1000, "GET request", "https://aws.amazon.com/s3/pricing/", True),
    "athena_tb": (5.00, "TB scanned", "https://aws.amazon.com/athena/pricing/", True),
    "sfn_transition": (0.025 / 1000, "Standard state transition", "https://aws.amazon.com/step-functions/pricing/",
                       True),
    "cloudfront_https_request": (0.0120 / 10_000, "HTTPS request (Japan)",
                                 "https://aws.amazon.com/cloudfront/pricing/", True),
    "cloudfront_gb": (0.114, "GB out (Japan, first 10 TB)", "https://aws.amazon.com/cloudfront/pricing/", True),
    # IVS low-latency output, HD (<= 720p), per viewer-hour delivered; the figure docs/realtime.md
    # uses (USD 45-50 per 1,000 viewer-hours): the lower end, so the goal is judged against less video.
    "ivs_hd_output_hour": (0.045, "HD video output, viewer-hour", "https://aws.amazon.com/ivs/pricing/", False),
}


def price(name: str) -> float:
    return PRICES[name][0]

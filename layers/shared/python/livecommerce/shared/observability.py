"""Logger and metrics shared by every function.

Traces: functions and the API stage run with X-Ray active tracing, so every
request gets segments (including the Lambda init phase) without the X-Ray SDK
in the package; Logger adds `xray_trace_id` to each log line so logs and
traces join. The SDK (Powertools Tracer) is left out on purpose: it creates
two botocore clients at import and more than doubles cold starts
(benchmarks/cold_start.py shows the figures).
"""
from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics

NAMESPACE = "LiveCommerce"

logger = Logger()
metrics = Metrics(namespace=NAMESPACE)

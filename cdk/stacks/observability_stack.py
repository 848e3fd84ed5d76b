"""Alarms and one dashboard per stage (issue 17 outcome 6).

Alarms, all to the stage's one alarm topic (the workflows stack's encrypted SNS topic, reused):

* API: the stage's 5xx rate (5XXError average, a fraction of requests) and its p99 latency;
* Lambda: errors and throttles of every function of the stage, one alarm each (a metric-math alarm
  takes at most 10 metrics, and a per-function alarm names the culprit);
* DynamoDB: read and write throttle events per table;
* the event consumers' dead-letter queue: any message in it;
* IoT Core: publishes refused by the service (PublishIn.ServerError and PublishIn.Throttle over HTTPS,
  the functions' path; PublishOut.Throttle towards subscribers over MQTT);
* Step Functions: failed, timed-out and aborted executions already alarm in the workflows stack (not
  duplicated here); the dashboard shows them.

Names are the physical names the other stacks give their resources (functions, tables, queue, API),
so this stack takes no cross-stack export.
"""
from __future__ import annotations

from aws_cdk import Duration, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_sns as sns
from constructs import Construct

from cdk.config import StageConfig
from livecommerce import manifest

PERIOD = Duration.minutes(1)
# Thresholds: a stage is unhealthy when over 1 % of its requests fail on our side for 5 minutes, or
# its p99 latency passes 2 s (the API's budget is 29 s; the mini-program's patience much less).
API_5XX_RATE = 0.01
API_P99_MS = 2_000
LAMBDA_ERRORS_PER_5_MIN = 5


class ObservabilityStack(Stack):
    def __init__(self, scope: Construct, id: str, *, config: StageConfig, function_names: dict[str, str],
                 alarm_topic: sns.ITopic, **kwargs) -> None:
        super().__init__(scope, id, **kwargs)
        self.config = config
        prefix = config.prefix
        action = cloudwatch_actions.SnsAction(alarm_topic)
        self.alarms: dict[str, cloudwatch.Alarm] = {}

        def alarm(key: str, metric: cloudwatch.IMetric, *, threshold: float, description: str,
                  periods: int = 5, comparison=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD) -> None:
            made = cloudwatch.Alarm(
                self, "Alarm" + "".join(part.title() for part in key.replace("-", "_").split("_")),
                alarm_name=f"{prefix}-{key}", alarm_description=description, metric=metric, threshold=threshold,
                evaluation_periods=periods, datapoints_to_alarm=periods, comparison_operator=comparison,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING)
            made.add_alarm_action(action)
            self.alarms[key] = made

        # API ------------------------------------------------------------------------------
        api_dims = {"ApiName": f"{prefix}-api", "Stage": config.name}
        api_5xx = cloudwatch.Metric(namespace="AWS/ApiGateway", metric_name="5XXError", dimensions_map=api_dims,
                                    statistic="Average", period=PERIOD, label="5xx rate")
        api_p99 = cloudwatch.Metric(namespace="AWS/ApiGateway", metric_name="Latency", dimensions_map=api_dims,
                                    statistic="p99", period=PERIOD, label="p99 latency (ms)")
        api_count = cloudwatch.Metric(namespace="AWS/ApiGateway", metric_name="Count", dimensions_map=api_dims,
                                      statistic="Sum", period=PERIOD, label="requests")
        alarm("api-5xx-rate", api_5xx, threshold=API_5XX_RATE,
              description=f"{prefix}: over {API_5XX_RATE:.0%} of API requests answered 5xx for 5 minutes")
        alarm("api-p99-latency", api_p99, threshold=API_P99_MS,
              description=f"{prefix}: API p99 latency over {API_P99_MS} ms for 5 minutes")

        # Lambda ---------------------------------------------------------------------------
        errors, throttles = [], []
        for name, physical in sorted(function_names.items()):
            dims = {"FunctionName": physical}
            error = cloudwatch.Metric(namespace="AWS/Lambda", metric_name="Errors", dimensions_map=dims,
                                      statistic="Sum", period=Duration.minutes(5), label=name)
            throttle = cloudwatch.Metric(namespace="AWS/Lambda", metric_name="Throttles", dimensions_map=dims,
                                         statistic="Sum", period=Duration.minutes(5), label=name)
            errors.append(error)
            throttles.append(throttle)
            alarm(f"fn-{name}-errors", error, threshold=LAMBDA_ERRORS_PER_5_MIN, periods=1,
                  description=f"{physical}: over {LAMBDA_ERRORS_PER_5_MIN} errors in 5 minutes")
            alarm(f"fn-{name}-throttles", throttle, threshold=0, periods=1,
                  description=f"{physical}: invocations throttled (concurrency limit reached)")

        # DynamoDB -------------------------------------------------------------------------
        table_throttles = []
        for i, spec in enumerate(manifest.ALL_TABLES):
            table = spec.physical_name(prefix)
            dims = {"TableName": table}
            both = cloudwatch.MathExpression(
                expression=f"FILL(r{i}, 0) + FILL(w{i}, 0)", label=spec.logical_id, period=PERIOD,
                using_metrics={       # ids unique across the dashboard's graph
                    f"r{i}": cloudwatch.Metric(namespace="AWS/DynamoDB", metric_name="ReadThrottleEvents",
                                           dimensions_map=dims, statistic="Sum", period=PERIOD),
                    f"w{i}": cloudwatch.Metric(namespace="AWS/DynamoDB", metric_name="WriteThrottleEvents",
                                           dimensions_map=dims, statistic="Sum", period=PERIOD)})
            table_throttles.append(both)
            alarm(f"table-{spec.logical_id.lower()}-throttles", both, threshold=0, periods=3,
                  description=f"{table}: requests throttled for 3 minutes (over the table's or a partition's "
                              "throughput: warm it, or shard the hot key)")

        # Dead letters -----------------------------------------------------------------------
        dlq_depth = cloudwatch.Metric(namespace="AWS/SQS", metric_name="ApproximateNumberOfMessagesVisible",
                                      dimensions_map={"QueueName": f"{prefix}-events-dlq"}, statistic="Maximum",
                                      period=PERIOD, label="events DLQ")
        alarm("events-dlq-depth", dlq_depth, threshold=0, periods=1,
              description=f"{prefix}-events-dlq: an event a consumer could not handle (see docs/operations)")

        # IoT Core -------------------------------------------------------------------------
        iot = cloudwatch.MathExpression(
            expression="FILL(se, 0) + FILL(th, 0) + FILL(ot, 0)", label="IoT publish errors", period=PERIOD,
            using_metrics={
                "se": cloudwatch.Metric(namespace="AWS/IoT", metric_name="PublishIn.ServerError",
                                        dimensions_map={"Protocol": "HTTP"}, statistic="Sum", period=PERIOD),
                "th": cloudwatch.Metric(namespace="AWS/IoT", metric_name="PublishIn.Throttle",
                                        dimensions_map={"Protocol": "HTTP"}, statistic="Sum", period=PERIOD),
                "ot": cloudwatch.Metric(namespace="AWS/IoT", metric_name="PublishOut.Throttle",
                                        dimensions_map={"Protocol": "MQTT"}, statistic="Sum", period=PERIOD)})
        alarm("iot-publish-errors", iot, threshold=0, periods=3,
              description="IoT Core refused publishes (server errors or throttling) for 3 minutes: room "
                          "messages are being lost (the account's quota is shared by every stage)")

        # Step Functions (alarmed in the workflows stack; shown here) --------------------------
        failed = cloudwatch.Metric(namespace="AWS/States", metric_name="ExecutionsFailed", statistic="Sum",
                                   period=Duration.minutes(5), label="failed executions (all machines)")

        # Dashboard ----------------------------------------------------------------------------
        self.dashboard = cloudwatch.Dashboard(self, "Dashboard", dashboard_name=f"{prefix}-health",
                                              default_interval=Duration.hours(3))
        self.dashboard.add_widgets(
            cloudwatch.TextWidget(markdown=f"# {prefix}\nAlarms go to `{prefix}-alarms` (SNS).", width=24,
                                  height=2))
        self.dashboard.add_widgets(
            cloudwatch.GraphWidget(title="API requests", left=[api_count], width=8),
            cloudwatch.GraphWidget(title="API 5xx rate", left=[api_5xx], width=8,
                                   left_annotations=[cloudwatch.HorizontalAnnotation(value=API_5XX_RATE)]),
            cloudwatch.GraphWidget(title="API p99 latency (ms)", left=[api_p99], width=8,
                                   left_annotations=[cloudwatch.HorizontalAnnotation(value=API_P99_MS)]))
        self.dashboard.add_widgets(
            cloudwatch.GraphWidget(title="Lambda errors", left=errors, width=12, legend_position=cloudwatch.LegendPosition.RIGHT),
            cloudwatch.GraphWidget(title="Lambda throttles", left=throttles, width=12,
                                   legend_position=cloudwatch.LegendPosition.RIGHT))
        self.dashboard.add_widgets(
            cloudwatch.GraphWidget(title="DynamoDB throttled requests", left=table_throttles, width=12,
                                   legend_position=cloudwatch.LegendPosition.RIGHT),
            cloudwatch.GraphWidget(title="Events DLQ, IoT publish errors, failed executions",
                                   left=[dlq_depth, iot], right=[failed], width=12))
        self.dashboard.add_widgets(cloudwatch.AlarmStatusWidget(
            title="Alarms", alarms=list(self.alarms.values()), width=24, height=6))

"""The real-time room channel on AWS IoT Core.

Built after the API stack, whose functions it wires. Their FunctionSpecs give
them their tables, the token secret, and (publishes_realtime) iot:Publish on
`topic/lc/<stage>/rooms/*` with iot:DescribeEndpoint; this stack adds what
belongs to the channel itself:

- the IoT Core custom authorizer `<prefix>-realtime` on the `realtime_authorizer`
  function (signing disabled: the credential is our login token, sent as the
  MQTT password), and IoT's permission to invoke it (this authorizer only);
- the event source mappings on the tables' DynamoDB streams, one per
  manifest.STREAM_CONSUMERS entry (filters, batch size, window,
  parallelization), and the read grant on that stream for their functions.

No IoT policy resources: the authorizer returns the per-connection policy
(livecommerce.interaction.policy.viewer_policy). Clients never publish.

Every value the functions need from here is computable from the stage config
(function_environment(), config.realtime_authorizer_name), so the API stack
never references this stack: the dependency runs one way, Realtime -> Api -> Data.
"""
from __future__ import annotations

from aws_cdk import Aws, CfnOutput, Duration, Stack
from aws_cdk import aws_iot as iot
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from cdk.config import StageConfig
from cdk.constructs import grants
from cdk.constructs.edge_cdn import EdgeDistribution
from livecommerce.manifest import BY_NAME, STREAM_CONSUMERS

AUTHORIZER_FUNCTION = "realtime_authorizer"
# Lambda's bounds for a DynamoDB stream mapping's maximum record age (-1: infinite).
MIN_RECORD_AGE_SECONDS = 60


class RealtimeStack(Stack):
    def __init__(self, scope: Construct, id: str, *, config: StageConfig, data, api, **kwargs) -> None:
        super().__init__(scope, id, **kwargs)

        self.config = config
        self.add_stack_dependency(data, "the stream mappings read the data stack's table streams")
        self.add_stack_dependency(api, "the realtime channel wires the API stack's functions")
        self.authorizer_name = config.realtime_authorizer_name
        functions = api.functions

        authorizer_fn = functions[AUTHORIZER_FUNCTION].function
        self.authorizer = iot.CfnAuthorizer(
            self,
            "Authorizer",
            authorizer_name=self.authorizer_name,
            authorizer_function_arn=authorizer_fn.function_arn,
            signing_disabled=True,          # MQTT username/password scheme: our login token is the password
            status="ACTIVE",
            enable_caching_for_http=False,
        )
        self.authorizer_permission = lambda_.CfnPermission(
            self,
            "IotInvokesAuthorizer",
            action="lambda:InvokeFunction",
            function_name=authorizer_fn.function_arn,
            principal="iot.amazonaws.com",
            source_arn=self.authorizer.attr_arn,
            source_account=Aws.ACCOUNT_ID,
        )

        self.mappings: dict[str, lambda_.EventSourceMapping] = {}
        granted: set[tuple[str, str]] = set()
        for consumer in STREAM_CONSUMERS:
            table_spec = data.table_specs.get(consumer.table_logical_id)
            if table_spec is None or not table_spec.stream:
                raise ValueError(f"stream consumer {consumer.name}: table {consumer.table_logical_id!r} has no "
                                 "stream (TableSpec.stream)")
            spec = BY_NAME[consumer.function]
            if table_spec not in spec.tables:
                raise ValueError(f"stream consumer {consumer.name}: the FunctionSpec of {consumer.function!r} "
                                 f"does not list table {consumer.table_logical_id!r} (its records are its items)")
            table = data.tables[consumer.table_logical_id]
            function = functions[consumer.function]
            if (consumer.function, consumer.table_logical_id) not in granted:
                function.add_to_role_policy(grants.stream_read_statement(stream_arn=table.table_stream_arn))
                granted.add((consumer.function, consumer.table_logical_id))
            mapping = lambda_.EventSourceMapping(
                self,
                f"{consumer.name}Mapping",
                target=function.function,
                event_source_arn=table.table_stream_arn,
                starting_position=lambda_.StartingPosition[consumer.starting_position],
                batch_size=consumer.batch_size,
                max_batching_window=Duration.seconds(consumer.batching_window_seconds),
                retry_attempts=consumer.retry_attempts,
                max_record_age=Duration.seconds(max(MIN_RECORD_AGE_SECONDS, consumer.max_record_age_seconds)),
                bisect_batch_on_error=True,
                parallelization_factor=consumer.parallelization_factor,
                filters=[lambda_.FilterCriteria.filter(pattern) for pattern in consumer.filters],
            )
            # The role's stream grant (in the API stack's policy) exists before the mapping:
            # the realtime stack deploys after the API stack.
            self.mappings[consumer.name] = mapping

        # Room entry from the edge: the snapshot behind CloudFront (1-2 s), issue 17 outcome 1.
        self.edge = EdgeDistribution(self, "EdgeCdn", prefix=config.prefix, rest_api=api.rest_api.api,
                                     log_bucket=api.media.logs_bucket)
        CfnOutput(self, "EdgeDomainName", value=self.edge.domain_name,
                  description="CloudFront domain serving GET /v1/rooms/{room_id}/snapshot")
        CfnOutput(self, "RealtimeAuthorizerName", value=self.authorizer_name,
                  description="IoT Core custom authorizer (REALTIME_AUTHORIZER_NAME)")

    @staticmethod
    def function_environment(config: StageConfig) -> dict[str, str]:
        """What the functions that hand out realtime credentials need from this stack
        (the API stack sets it for FunctionSpec.realtime_client_settings). The endpoint
        is empty: they hand out wss://<ATS endpoint>/mqtt, found with iot:DescribeEndpoint
        (account-specific, unknown at synth time)."""
        return {"REALTIME_ENDPOINT": "", "REALTIME_AUTHORIZER_NAME": config.realtime_authorizer_name}

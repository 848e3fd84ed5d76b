"""The analytics store on AWS: S3 (Parquet, Hive partitions dt/room_id), Glue tables, Athena
workgroup, Firehose delivery streams, and the EventBridge rule that sends every domain event, whole,
to the events stream.

Every table and column comes from livecommerce.analytics.store_schema (the same definitions the
local Firehose stand-in writes with and DuckDB reads). Firehose converts the JSON records to
Parquet with the Glue table's schema (HiveJsonSerDe, epoch-millisecond and ISO timestamps) and
partitions them by `dt` and `room_id` (dynamic partitioning): beacons with a JQ query over each
record; events with the keys the stream's transformation Lambda returns. That Lambda
(`events_transform`, livecommerce.analytics.event_rows.firehose_transform) turns each EventBridge
envelope into the row, the `detail` object into JSON text (what no input transformer or SerDe
mapping can do), and runs once per buffered batch of up to 1 MB, not per event.
Athena reads the partitions by projection (no crawler, no MSCK): `dt` a date range, `room_id`
injected, so every query names its room (the report queries do).
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from aws_cdk import ArnFormat, Aws, Duration, Stack
from aws_cdk import aws_athena as athena
from aws_cdk import aws_events as events
from aws_cdk import aws_glue as glue
from aws_cdk import aws_iam as iam
from aws_cdk import aws_iot as iot
from aws_cdk import aws_kinesisfirehose as firehose
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from constructs import Construct

from cdk import nag
from cdk.config import StageConfig
from cdk.constructs.secure_bucket import SecureBucket
from cdk.stacks.data_stack import DataStack
from livecommerce.analytics.store_schema import BEACONS, EVENTS, NO_ROOM, TABLES, Table, delivery_stream_name
from livecommerce.manifest import FUNCTION_SPECS

LIVE_FUNCTION = "live_stats"      # livecommerce.analytics.spec: IoT lifecycle events go to it

if TYPE_CHECKING:
    from cdk.stacks.api_stack import ApiStack

# Per record, the partition keys Firehose's dynamic partitioning reads (JQ 1.6). The events stream
# takes its keys from its transformation Lambda instead (TRANSFORMED).
PARTITION_QUERIES = {
    "beacons": '{dt: (.received_at / 1000 | floor | strftime("%Y-%m-%d")), room_id: .room_id}',
}
# Streams whose records a Lambda turns into rows (function name, as FunctionSpec names it).
TRANSFORMED = {"events": "events_transform"}
# The transformation's batches: Firehose buffers up to 1 MB or 5 s per invocation (a response must stay
# under Lambda's 6 MB; rows are about the envelope's size), so the Lambda runs per batch, not per event.
TRANSFORM_BUFFER_MB = 1
# The delivery buffer of both streams: an object per room partition at most every 15 s. Firehose's API
# allows 0-900 s, but zero buffering is not available with dynamic partitioning, whose multi-stage
# buffering may deliver a record up to 1.5 x the interval late (Firehose developer guide, "Buffer data
# for dynamic partitioning"). So the post-live report waits at most ceil(1.5 x 15) = 23 s after the end
# (REPORT_SETTLE_SECONDS of post_live_report, held equal by tests/infra/test_infra_analytics_reports.py)
# and less when the store shows it has caught up (analytics/post_live.py: wait_for_store). A shorter
# interval means more, smaller Parquet objects per room: 240 an hour per stream and live room.
STORE_BUFFER_SECONDS = 15
TRANSFORM_BUFFER_SECONDS = 5
TIMESTAMP_FORMATS = ["millis", "yyyy-MM-dd'T'HH:mm:ss'Z'", "yyyy-MM-dd'T'HH:mm:ss.SSS'Z'"]
RESULTS_EXPIRE_DAYS = 7           # Athena result files: a report is cached elsewhere, results are scratch
STORE_INFREQUENT_ACCESS_DAYS = 90  # comparisons read the last sessions mostly
STORE_EXPIRE_DAYS = 400            # a year of comparisons plus a margin (as the event log)


def glue_database_name(config: StageConfig) -> str:
    return f"{config.prefix}_analytics".replace("-", "_")


def workgroup_name(config: StageConfig) -> str:
    return f"{config.prefix}-analytics"


class AnalyticsStack(Stack):
    def __init__(self, scope: Construct, id: str, *, config: StageConfig, data: DataStack,
                 api: "ApiStack | None" = None, **kwargs) -> None:
        super().__init__(scope, id, **kwargs)
        self.config = config
        key = data.key
        self._key_arn = key.key_arn
        self.store = SecureBucket(
            self, "Store", removal_policy=config.removal_policy,
            noncurrent_version_days=config.noncurrent_version_days, encryption_key=key,
            access_logs_bucket=data.access_logs_bucket, access_logs_prefix="analytics-store/",
            expiration_days=STORE_EXPIRE_DAYS,
            transitions=[s3.Transition(storage_class=s3.StorageClass.INFREQUENT_ACCESS,
                                       transition_after=Duration.days(STORE_INFREQUENT_ACCESS_DAYS))],
        ).bucket
        self.results = SecureBucket(
            self, "QueryResults", removal_policy=config.removal_policy,
            noncurrent_version_days=1, encryption_key=key,
            access_logs_bucket=data.access_logs_bucket, access_logs_prefix="analytics-results/",
            expiration_days=RESULTS_EXPIRE_DAYS,
        ).bucket

        self.database_name = glue_database_name(config)
        database = glue.CfnDatabase(self, "Database", catalog_id=Aws.ACCOUNT_ID, database_input=glue.CfnDatabase.DatabaseInputProperty(
            name=self.database_name, description=f"Live commerce {config.name}: analytics store (beacons, events)"))
        self.tables = {t.name: self._table(t, database) for t in TABLES}

        self.workgroup_name = workgroup_name(config)
        self.workgroup = athena.CfnWorkGroup(
            self, "WorkGroup", name=self.workgroup_name, recursive_delete_option=not config.retain_data,
            description="Report queries (livecommerce.analytics.queries)",
            work_group_configuration=athena.CfnWorkGroup.WorkGroupConfigurationProperty(
                enforce_work_group_configuration=True, publish_cloud_watch_metrics_enabled=True,
                bytes_scanned_cutoff_per_query=10 * 1024 ** 3,
                engine_version=athena.CfnWorkGroup.EngineVersionProperty(selected_engine_version="Athena engine version 3"),
                result_configuration=athena.CfnWorkGroup.ResultConfigurationProperty(
                    output_location=f"s3://{self.results.bucket_name}/results/",
                    encryption_configuration=athena.CfnWorkGroup.EncryptionConfigurationProperty(
                        encryption_option="SSE_KMS", kms_key=key.key_arn))))

        self.firehose_role = iam.Role(self, "FirehoseRole", assumed_by=iam.ServicePrincipal("firehose.amazonaws.com"),
                                      description="Firehose: write the analytics store, read its Glue schema")
        self.store.grant_read_write(self.firehose_role)
        key.grant_encrypt_decrypt(self.firehose_role)
        self.firehose_role.add_to_policy(iam.PolicyStatement(
            actions=["glue:GetTable", "glue:GetTableVersion", "glue:GetTableVersions"],
            resources=[f"arn:{Aws.PARTITION}:glue:{Aws.REGION}:{Aws.ACCOUNT_ID}:catalog",
                       f"arn:{Aws.PARTITION}:glue:{Aws.REGION}:{Aws.ACCOUNT_ID}:database/{self.database_name}",
                       *(f"arn:{Aws.PARTITION}:glue:{Aws.REGION}:{Aws.ACCOUNT_ID}:table/{self.database_name}/{t.name}"
                         for t in TABLES)]))
        self.firehose_logs = logs.LogGroup(self, "FirehoseLogs", retention=config.log_retention,
                                           removal_policy=config.removal_policy)
        self.firehose_logs.grant_write(self.firehose_role)
        self.transform_arns = {table: self._function_arn(function) for table, function in TRANSFORMED.items()}
        self.firehose_role.add_to_policy(iam.PolicyStatement(   # the transformation Lambdas, and nothing else
            actions=["lambda:InvokeFunction", "lambda:GetFunctionConfiguration"],
            resources=sorted(self.transform_arns.values())))
        self.streams = {t.name: self._stream(t) for t in TABLES}
        nag.acknowledge_all(
            self.firehose_role,
            [f"AwsSolutions-IAM5[Action::{a}]" for a in (
                "s3:Abort*", "s3:DeleteObject*", "s3:GetBucket*", "s3:GetObject*", "s3:List*",
                "kms:GenerateDataKey*", "kms:ReEncrypt*")]
            + [f"AwsSolutions-IAM5[Resource::{nag.flatten(self, self.store.bucket_arn)}/*]"],
            "Firehose writes objects under every dt/room_id partition of the store bucket (CDK's read-write "
            "grant: objects of this bucket only) and uses the data key for them (this key only)")

        self._event_rules(data)
        # Functions that run the report queries (FunctionSpec.queries_analytics): their grants live here,
        # beside what they read (the API stack sets their ANALYTICS_* environment from the same names).
        if api is not None:
            for spec in FUNCTION_SPECS:
                if spec.queries_analytics:
                    self.grant_queries(spec.name, api.functions[spec.name].function.role)
            self.lifecycle_rules = self._lifecycle_rules(api.functions[LIVE_FUNCTION].function)

    def _lifecycle_rules(self, function: "lambda_.IFunction") -> list[iot.CfnTopicRule]:
        """IoT Core's lifecycle events (subscribe, unsubscribe, disconnect) to the live-figures function,
        one invocation per event (never per heartbeat): viewers online now (livecommerce.analytics.live)."""
        rules = []
        for name, topic_filter in (("Subscriptions", "$aws/events/subscriptions/+/+"),
                                   ("Disconnects", "$aws/events/presence/disconnected/+")):
            rule = iot.CfnTopicRule(
                self, f"Lifecycle{name}",
                rule_name=f"{self.config.prefix}_live_{name.lower()}".replace("-", "_"),
                topic_rule_payload=iot.CfnTopicRule.TopicRulePayloadProperty(
                    sql=f"SELECT * FROM '{topic_filter}'", aws_iot_sql_version="2016-03-23",
                    rule_disabled=False, description="Live figures: realtime presence of viewers",
                    actions=[iot.CfnTopicRule.ActionProperty(
                        lambda_=iot.CfnTopicRule.LambdaActionProperty(function_arn=function.function_arn))]))
            lambda_.CfnPermission(self, f"IotInvokesLive{name}", action="lambda:InvokeFunction",
                                  function_name=function.function_arn, principal="iot.amazonaws.com",
                                  source_arn=rule.attr_arn, source_account=Aws.ACCOUNT_ID)
            rules.append(rule)
        return rules

    def grant_queries(self, name: str, role: iam.IRole) -> iam.Policy:
        """Athena in the workgroup, the Glue catalogue of the store, the store (read), the results
        bucket (Athena writes and reads the results as the caller) and the data key for both."""
        arn = f"arn:{Aws.PARTITION}:glue:{Aws.REGION}:{Aws.ACCOUNT_ID}"
        workgroup = f"arn:{Aws.PARTITION}:athena:{Aws.REGION}:{Aws.ACCOUNT_ID}:workgroup/{self.workgroup_name}"
        tables = f"{arn}:table/{self.database_name}/*"
        policy = iam.Policy(self, "Queries" + "".join(part.title() for part in name.split("_")), roles=[role],
                            statements=[
            iam.PolicyStatement(actions=["athena:StartQueryExecution", "athena:GetQueryExecution",
                                         "athena:GetQueryResults", "athena:StopQueryExecution"],
                                resources=[workgroup]),
            iam.PolicyStatement(actions=["glue:GetDatabase", "glue:GetTable", "glue:GetTables",
                                         "glue:GetPartition", "glue:GetPartitions"],
                                resources=[f"{arn}:catalog", f"{arn}:database/{self.database_name}", tables]),
            iam.PolicyStatement(actions=["s3:GetObject"], resources=[f"{self.store.bucket_arn}/*"]),
            iam.PolicyStatement(actions=["s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload"],
                                resources=[f"{self.results.bucket_arn}/results/*"]),
            iam.PolicyStatement(actions=["s3:ListBucket", "s3:GetBucketLocation"],
                                resources=[self.store.bucket_arn, self.results.bucket_arn]),
            iam.PolicyStatement(actions=["kms:Decrypt", "kms:GenerateDataKey"], resources=[self._key_arn]),
        ])
        nag.acknowledge_all(policy, [
            f"AwsSolutions-IAM5[Resource::{nag.flatten(self, tables)}]",
            f"AwsSolutions-IAM5[Resource::{nag.flatten(self, self.store.bucket_arn)}/*]",
            f"AwsSolutions-IAM5[Resource::{nag.flatten(self, self.results.bucket_arn)}/results/*]"],
            f"{name} runs the report queries: Athena reads every dt/room_id partition object of the store and "
            "its views and tables in the store's Glue database (views are tables there), and writes its results "
            "under results/ of the results bucket; nothing else of either bucket or the catalogue")
        return policy

    def stream_name(self, table: Table) -> str:
        return delivery_stream_name(self.config.prefix, table.name)

    def _function_arn(self, name: str) -> str:
        """A function of the API stack by the physical name it gives it (ApiStack.function_name), so
        this stack needs no reference to it."""
        return self.format_arn(service="lambda", resource="function",
                               resource_name=f"{self.config.prefix}-{name.replace('_', '-')}",
                               arn_format=ArnFormat.COLON_RESOURCE_NAME)

    def _processing(self, table: Table) -> firehose.CfnDeliveryStream.ProcessingConfigurationProperty:
        param = firehose.CfnDeliveryStream.ProcessorParameterProperty
        if table.name in TRANSFORMED:
            processor = firehose.CfnDeliveryStream.ProcessorProperty(type="Lambda", parameters=[
                param(parameter_name="LambdaArn", parameter_value=self.transform_arns[table.name]),
                param(parameter_name="BufferSizeInMBs", parameter_value=str(TRANSFORM_BUFFER_MB)),
                param(parameter_name="BufferIntervalInSeconds", parameter_value=str(TRANSFORM_BUFFER_SECONDS)),
                param(parameter_name="NumberOfRetries", parameter_value="3")])
        else:
            processor = firehose.CfnDeliveryStream.ProcessorProperty(type="MetadataExtraction", parameters=[
                param(parameter_name="MetadataExtractionQuery", parameter_value=PARTITION_QUERIES[table.name]),
                param(parameter_name="JsonParsingEngine", parameter_value="JQ-1.6")])
        return firehose.CfnDeliveryStream.ProcessingConfigurationProperty(enabled=True, processors=[processor])

    # ------------------------------------------------------------------ Glue
    def _table(self, table: Table, database: glue.CfnDatabase) -> glue.CfnTable:
        location = f"s3://{self.store.bucket_name}/{table.name}/"
        resource = glue.CfnTable(
            self, f"Table{table.name.capitalize()}", catalog_id=Aws.ACCOUNT_ID, database_name=self.database_name,
            table_input=glue.CfnTable.TableInputProperty(
                name=table.name, description=table.description, table_type="EXTERNAL_TABLE",
                parameters={
                    "classification": "parquet", "EXTERNAL": "TRUE", "parquet.compression": "SNAPPY",
                    "projection.enabled": "true",
                    "projection.dt.type": "date", "projection.dt.format": "yyyy-MM-dd",
                    "projection.dt.range": "2025-01-01,NOW", "projection.dt.interval": "1",
                    "projection.dt.interval.unit": "DAYS",
                    "projection.room_id.type": "injected",
                    "storage.location.template": f"{location}dt=${{dt}}/room_id=${{room_id}}/",
                },
                partition_keys=[glue.CfnTable.ColumnProperty(**c) for c in table.glue_partition_keys()],
                storage_descriptor=glue.CfnTable.StorageDescriptorProperty(
                    location=location,
                    columns=[glue.CfnTable.ColumnProperty(**c) for c in table.glue_columns()],
                    input_format="org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
                    output_format="org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat",
                    serde_info=glue.CfnTable.SerdeInfoProperty(
                        serialization_library="org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"))))
        resource.node.add_dependency(database)
        return resource

    # ------------------------------------------------------------------ Firehose
    def _stream(self, table: Table) -> firehose.CfnDeliveryStream:
        role_arn = self.firehose_role.role_arn
        source = "partitionKeyFromLambda" if table.name in TRANSFORMED else "partitionKeyFromQuery"
        stream = firehose.CfnDeliveryStream(
            self, f"Stream{table.name.capitalize()}", delivery_stream_name=self.stream_name(table),
            delivery_stream_type="DirectPut",
            delivery_stream_encryption_configuration_input=firehose.CfnDeliveryStream
            .DeliveryStreamEncryptionConfigurationInputProperty(key_type="AWS_OWNED_CMK"),
            extended_s3_destination_configuration=firehose.CfnDeliveryStream.ExtendedS3DestinationConfigurationProperty(
                bucket_arn=self.store.bucket_arn, role_arn=role_arn,
                prefix=f"{table.name}/dt=!{{{source}:dt}}/room_id=!{{{source}:room_id}}/",
                error_output_prefix=f"errors/{table.name}/!{{firehose:error-output-type}}/!{{timestamp:yyyy-MM-dd}}/",
                # Parquet conversion and dynamic partitioning need a buffer of at least 64 MB; the interval
                # is what the post-live report waits for (STORE_BUFFER_SECONDS).
                buffering_hints=firehose.CfnDeliveryStream.BufferingHintsProperty(
                    interval_in_seconds=STORE_BUFFER_SECONDS, size_in_m_bs=64),
                encryption_configuration=firehose.CfnDeliveryStream.EncryptionConfigurationProperty(
                    kms_encryption_config=firehose.CfnDeliveryStream.KMSEncryptionConfigProperty(
                        awskms_key_arn=self.config_key_arn)),
                cloud_watch_logging_options=firehose.CfnDeliveryStream.CloudWatchLoggingOptionsProperty(
                    enabled=True, log_group_name=self.firehose_logs.log_group_name, log_stream_name=table.name),
                dynamic_partitioning_configuration=firehose.CfnDeliveryStream.DynamicPartitioningConfigurationProperty(
                    enabled=True, retry_options=firehose.CfnDeliveryStream.RetryOptionsProperty(duration_in_seconds=300)),
                processing_configuration=self._processing(table),
                data_format_conversion_configuration=firehose.CfnDeliveryStream.DataFormatConversionConfigurationProperty(
                    enabled=True,
                    input_format_configuration=firehose.CfnDeliveryStream.InputFormatConfigurationProperty(
                        deserializer=firehose.CfnDeliveryStream.DeserializerProperty(
                            hive_json_ser_de=firehose.CfnDeliveryStream.HiveJsonSerDeProperty(
                                timestamp_formats=TIMESTAMP_FORMATS))),
                    output_format_configuration=firehose.CfnDeliveryStream.OutputFormatConfigurationProperty(
                        serializer=firehose.CfnDeliveryStream.SerializerProperty(
                            parquet_ser_de=firehose.CfnDeliveryStream.ParquetSerDeProperty(compression="SNAPPY"))),
                    schema_configuration=firehose.CfnDeliveryStream.SchemaConfigurationProperty(
                        database_name=self.database_name, table_name=table.name, role_arn=role_arn,
                        region=Aws.REGION, catalog_id=Aws.ACCOUNT_ID, version_id="LATEST"))))
        stream.node.add_dependency(self.firehose_role.node.find_child("DefaultPolicy"))  # permissions before create
        stream.node.add_dependency(self.tables[table.name])
        return stream

    @property
    def config_key_arn(self) -> str:
        return self._key_arn

    # ------------------------------------------------------------------ EventBridge -> Firehose
    def _event_rules(self, data: DataStack) -> None:
        """Every domain event, whole (no input transformer: it cannot make the detail object the
        JSON text of `detail`), to the events stream; its transformation makes the row."""
        stream = self.streams[EVENTS.name]
        role = iam.Role(self, "EventsToFirehoseRole", assumed_by=iam.ServicePrincipal("events.amazonaws.com"),
                        description="EventBridge: put domain events into the analytics events stream")
        role.add_to_policy(iam.PolicyStatement(actions=["firehose:PutRecord", "firehose:PutRecordBatch"],
                                               resources=[stream.attr_arn]))
        events.CfnRule(
            self, "DomainEventsToStore", event_bus_name=data.event_bus.event_bus_name,
            description="Every domain event -> the analytics events stream (rows made by its transformation)",
            event_pattern={"source": ["livecommerce"]},
            targets=[events.CfnRule.TargetProperty(id="AnalyticsEvents", arn=stream.attr_arn, role_arn=role.role_arn)])

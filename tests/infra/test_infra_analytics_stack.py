"""The analytics stack (cdk/stacks/analytics_stack.py), synthesized with the Data stack it reads
and the cdk-nag plugin on (a finding fails the synth); cfn-lint on its template."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from aws_cdk import App, assertions

from cdk import nag
from cdk.config import environment, stages_for
from cdk.stacks.analytics_stack import PARTITION_QUERIES, AnalyticsStack
from cdk.stacks.data_stack import DataStack
from cdk.stage import FEATURE_FLAGS, cdk_json_context
from livecommerce.analytics.store_schema import TABLES


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    out = tmp_path_factory.mktemp("analytics-synth")
    app = App(outdir=str(out), context={**cdk_json_context(), **FEATURE_FLAGS})
    config = stages_for("prod")[0]
    data = DataStack(app, "Data", config=config, env=environment())
    stack = AnalyticsStack(app, "Analytics", config=config, data=data, env=environment())
    nag.add_checks(app)
    template = assertions.Template.from_stack(stack)
    app.synth()
    return template, template.to_json(), out


def test_glue_tables_are_the_store_schema(built):
    _, doc, _ = built
    tables = {r["Properties"]["TableInput"]["Name"]: r["Properties"]["TableInput"]
              for r in doc["Resources"].values() if r["Type"] == "AWS::Glue::Table"}
    assert set(tables) == {t.name for t in TABLES}
    for table in TABLES:
        got = tables[table.name]
        assert got["StorageDescriptor"]["Columns"] == [
            {"Name": c["name"], "Type": c["type"], "Comment": c["comment"]} for c in table.glue_columns()]
        assert [k["Name"] for k in got["PartitionKeys"]] == ["dt", "room_id"]
        assert got["Parameters"]["projection.enabled"] == "true"


def test_firehose_parquet_partitioned_encrypted(built):
    template, doc, _ = built
    streams = {r["Properties"]["DeliveryStreamName"]: r["Properties"] for r in doc["Resources"].values()
               if r["Type"] == "AWS::KinesisFirehose::DeliveryStream"}
    assert len(streams) == len(TABLES)
    for s in streams.values():
        dest = s["ExtendedS3DestinationConfiguration"]
        assert s["DeliveryStreamEncryptionConfigurationInput"]["KeyType"] == "AWS_OWNED_CMK"
        assert "KMSEncryptionConfig" in dest["EncryptionConfiguration"]
        conversion = dest["DataFormatConversionConfiguration"]
        assert conversion["Enabled"] is True and conversion["OutputFormatConfiguration"]["Serializer"]["ParquetSerDe"]
        assert conversion["SchemaConfiguration"]["TableName"] in {t.name for t in TABLES}
        assert dest["DynamicPartitioningConfiguration"]["Enabled"] is True
        # 15 s buffers (the post-live report's wait); 64 MB, the least Parquet conversion allows
        assert dest["BufferingHints"] == {"IntervalInSeconds": 15, "SizeInMBs": 64}
    beacons = streams["livecommerce-prod-analytics-beacons"]["ExtendedS3DestinationConfiguration"]
    assert "dt=!{partitionKeyFromQuery:dt}/room_id=!{partitionKeyFromQuery:room_id}/" in beacons["Prefix"]
    (processor,) = beacons["ProcessingConfiguration"]["Processors"]
    assert processor["Type"] == "MetadataExtraction"
    assert processor["Parameters"][0]["ParameterValue"] == PARTITION_QUERIES["beacons"]


def test_events_whole_envelopes_to_a_batch_transformation_lambda(built):
    """Every domain event goes to the events stream whole (one rule, no input transformer: it cannot
    make the detail object the JSON text of `detail`); the stream's Lambda processor (the
    events_transform function, per batch of up to 1 MB / 5 s) makes the rows and the partition keys."""
    template, doc, _ = built
    rules = [r["Properties"] for r in doc["Resources"].values() if r["Type"] == "AWS::Events::Rule"]
    assert len(rules) == 1
    (rule,) = rules
    assert rule["EventPattern"] == {"source": ["livecommerce"]}
    (target,) = rule["Targets"]
    assert "InputTransformer" not in target and "InputPath" not in target and "Input" not in target
    assert "Fn::GetAtt" in target["Arn"]
    events = next(r["Properties"] for r in doc["Resources"].values()
                  if r["Type"] == "AWS::KinesisFirehose::DeliveryStream"
                  and r["Properties"]["DeliveryStreamName"].endswith("-analytics-events"))
    dest = events["ExtendedS3DestinationConfiguration"]
    assert dest["Prefix"] == "events/dt=!{partitionKeyFromLambda:dt}/room_id=!{partitionKeyFromLambda:room_id}/"
    (processor,) = dest["ProcessingConfiguration"]["Processors"]
    assert processor["Type"] == "Lambda"
    params = {p["ParameterName"]: p["ParameterValue"] for p in processor["Parameters"]}
    assert params["BufferSizeInMBs"] == "1" and params["BufferIntervalInSeconds"] == "5"
    arn = json.dumps(params["LambdaArn"])
    assert ":function:livecommerce-prod-events-transform" in arn
    # The Firehose role may invoke that function and no other.
    statements = [st for r in doc["Resources"].values() if r["Type"] == "AWS::IAM::Policy"
                  for st in r["Properties"]["PolicyDocument"]["Statement"]
                  if "lambda:InvokeFunction" in (st["Action"] if isinstance(st["Action"], list) else [st["Action"]])]
    assert len(statements) == 1 and json.dumps(statements[0]["Resource"]) == arn
    # Parquet conversion reads the Glue table, whose columns are store_schema's (detail a string).
    assert conversion_table(dest) == "events"
    template.resource_count_is("AWS::Lambda::Function", 0)   # the function lives in the API stack


def conversion_table(dest):
    return dest["DataFormatConversionConfiguration"]["SchemaConfiguration"]["TableName"]


def test_athena_results_encrypted_and_expiring(built):
    template, doc, _ = built
    template.has_resource_properties("AWS::Athena::WorkGroup", {"WorkGroupConfiguration": assertions.Match.object_like({
        "EnforceWorkGroupConfiguration": True,
        "ResultConfiguration": assertions.Match.object_like({
            "EncryptionConfiguration": assertions.Match.object_like({"EncryptionOption": "SSE_KMS"})})})})
    expirations = sorted(rule.get("ExpirationInDays") for r in doc["Resources"].values()
                         if r["Type"] == "AWS::S3::Bucket"
                         for rule in r["Properties"]["LifecycleConfiguration"]["Rules"] if rule.get("ExpirationInDays"))
    assert expirations == [7, 400]


def test_cfn_lint_clean(built):
    _, _, out = built
    result = subprocess.run([str(Path(sys.executable).with_name("cfn-lint")), str(Path(out) / "Analytics.template.json")],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr

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


def test_firehose_parquet_partitioned_encrypted_and_events_without_lambda(built):
    template, doc, _ = built
    streams = [r["Properties"] for r in doc["Resources"].values() if r["Type"] == "AWS::KinesisFirehose::DeliveryStream"]
    assert len(streams) == len(TABLES)
    for s in streams:
        dest = s["ExtendedS3DestinationConfiguration"]
        assert s["DeliveryStreamEncryptionConfigurationInput"]["KeyType"] == "AWS_OWNED_CMK"
        assert "KMSEncryptionConfig" in dest["EncryptionConfiguration"]
        assert dest["DataFormatConversionConfiguration"]["OutputFormatConfiguration"]["Serializer"]["ParquetSerDe"]
        assert dest["DynamicPartitioningConfiguration"]["Enabled"] is True
        assert "dt=!{partitionKeyFromQuery:dt}/room_id=!{partitionKeyFromQuery:room_id}/" in dest["Prefix"]
        query = dest["ProcessingConfiguration"]["Processors"][0]["Parameters"][0]["ParameterValue"]
        assert query in PARTITION_QUERIES.values()
    rules = [r["Properties"] for r in doc["Resources"].values() if r["Type"] == "AWS::Events::Rule"]
    assert len(rules) == 3  # amount from total / from amount / none
    for rule in rules:
        target = rule["Targets"][0]
        assert "InputTransformer" in target and "Fn::GetAtt" in target["Arn"]
    template.resource_count_is("AWS::Lambda::Function", 0)


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

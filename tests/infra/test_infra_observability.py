"""The observability stack (cdk/stacks/observability_stack.py): every alarm the issue names, to the
one alarm topic of the stage, and one dashboard; synthesized with cdk-nag on (a finding fails the
synth) next to a stand-in for the workflows stack's encrypted topic; cfn-lint on its template. That
build_stage wires it to the real topic is checked on the stage's app (test_stage_wiring)."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from aws_cdk import App, Stack, assertions
from aws_cdk import aws_sns as sns

from cdk import nag
from cdk.config import environment, stages_for
from cdk.stacks.observability_stack import ObservabilityStack
from cdk.stage import FEATURE_FLAGS, cdk_json_context
from livecommerce import manifest

FUNCTIONS = {spec.name: f"livecommerce-prod-{spec.name.replace('_', '-')}" for spec in manifest.FUNCTION_SPECS}


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    out = tmp_path_factory.mktemp("observability-synth")
    app = App(outdir=str(out), context={**cdk_json_context(), **FEATURE_FLAGS})
    config = stages_for("prod")[0]
    topics = Stack(app, "Topics", env=environment())
    topic = sns.Topic(topics, "AlarmTopic", topic_name="livecommerce-prod-alarms", enforce_ssl=True)
    nag.acknowledge(topic, "AwsSolutions-SNS2", "A stand-in for the workflows stack's KMS-encrypted topic.")
    stack = ObservabilityStack(app, "Observability", config=config, function_names=FUNCTIONS, alarm_topic=topic,
                               env=environment())
    nag.add_checks(app)
    template = assertions.Template.from_stack(stack)
    app.synth()
    return template, template.to_json(), out


def _alarms(doc):
    """Alarm name -> properties, a single-metric alarm's metric lifted to the top (CDK renders a
    labelled metric as a one-entry Metrics list)."""
    found = {}
    for r in doc["Resources"].values():
        if r["Type"] != "AWS::CloudWatch::Alarm":
            continue
        props = dict(r["Properties"])
        metrics = props.get("Metrics") or []
        if len(metrics) == 1 and "MetricStat" in metrics[0]:
            stat = metrics[0]["MetricStat"]
            props.update(MetricName=stat["Metric"]["MetricName"], Dimensions=stat["Metric"].get("Dimensions"),
                         Namespace=stat["Metric"]["Namespace"])
            props["Statistic" if not stat["Stat"].startswith("p") else "ExtendedStatistic"] = stat["Stat"]
        found[props["AlarmName"]] = props
    return found


def test_every_named_alarm_goes_to_the_one_topic(built):
    _, doc, _ = built
    alarms = _alarms(doc)
    p = "livecommerce-prod-"
    api = alarms[p + "api-5xx-rate"]
    assert api["MetricName"] == "5XXError" and api["Statistic"] == "Average" and api["Threshold"] == 0.01
    assert {d["Name"]: d["Value"] for d in api["Dimensions"]} == {"ApiName": p + "api", "Stage": "prod"}
    latency = alarms[p + "api-p99-latency"]
    assert latency["MetricName"] == "Latency" and latency["ExtendedStatistic"] == "p99"
    for spec in manifest.FUNCTION_SPECS:          # every function: errors and throttles
        for kind, metric in (("errors", "Errors"), ("throttles", "Throttles")):
            alarm = alarms[f"{p}fn-{spec.name}-{kind}"]
            assert alarm["MetricName"] == metric
            assert alarm["Dimensions"] == [{"Name": "FunctionName", "Value": FUNCTIONS[spec.name]}]
    for table in manifest.ALL_TABLES:             # every table: read + write throttle events
        alarm = alarms[f"{p}table-{table.logical_id.lower()}-throttles"]
        text = json.dumps(alarm["Metrics"])
        assert "ReadThrottleEvents" in text and "WriteThrottleEvents" in text and table.physical_name(p[:-1]) in text
    dlq = alarms[p + "events-dlq-depth"]
    assert dlq["MetricName"] == "ApproximateNumberOfMessagesVisible" and dlq["Threshold"] == 0
    iot = json.dumps(alarms[p + "iot-publish-errors"]["Metrics"])
    assert "PublishIn.ServerError" in iot and "PublishIn.Throttle" in iot and "PublishOut.Throttle" in iot
    # Failed executions alarm in the workflows stack, not twice.
    assert not any("executions" in name for name in alarms)
    topic_refs = {json.dumps(a["AlarmActions"]) for a in alarms.values()}
    assert len(topic_refs) == 1 and "AlarmTopic" in topic_refs.pop()
    assert len(alarms) == 2 * len(manifest.FUNCTION_SPECS) + len(manifest.ALL_TABLES) + 4


def test_one_dashboard_per_stage(built):
    template, doc, _ = built
    template.resource_count_is("AWS::CloudWatch::Dashboard", 1)
    (dashboard,) = [r for r in doc["Resources"].values() if r["Type"] == "AWS::CloudWatch::Dashboard"]
    assert dashboard["Properties"]["DashboardName"] == "livecommerce-prod-health"
    body = json.dumps(dashboard["Properties"]["DashboardBody"])
    for shown in ("5XXError", "Latency", "Errors", "Throttles", "WriteThrottleEvents", "ExecutionsFailed",
                  "ApproximateNumberOfMessagesVisible", "PublishIn.ServerError"):
        assert shown in body, shown


def test_cfn_lint_clean(built):
    _, _, out = built
    result = subprocess.run([str(Path(sys.executable).with_name("cfn-lint")),
                             str(Path(out) / "Observability.template.json")], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_stage_wiring():
    """build_stage makes the observability stack with the workflows stack's topic, on every stage."""
    source = (Path(__file__).resolve().parents[2] / "cdk" / "stage.py").read_text()
    assert "alarm_topic=workflows.alarm_topic" in source and 'config.stack_name("Observability")' in source

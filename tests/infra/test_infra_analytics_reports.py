"""The report and live-figure functions on AWS (the stage synthesized with cdk-nag on): the report
functions query Athena with grants beside the store (AnalyticsStack.grant_queries), store reports in
the exports bucket under their prefixes only, and get their settings from the spec."""
from __future__ import annotations

import math

from infra_helpers import as_list, function_logical_id, props, resources, role_statements

from cdk.stacks.analytics_stack import glue_database_name, workgroup_name


def _env(api: dict, name: str, stage: str) -> dict:
    return props(api["Resources"][function_logical_id(api, name, stage)])["Environment"]["Variables"]


def test_report_functions_query_athena_and_write_reports(synth, stage):
    api, analytics = synth.json(stage, "Api"), synth.json(stage, "Analytics")
    config = synth.config(stage)
    for name in ("analytics", "post_live_report"):
        env = _env(api, name, stage)
        assert (env["ANALYTICS_ENGINE"], env["ANALYTICS_WORKGROUP"], env["ANALYTICS_DATABASE"]) == (
            "athena", workgroup_name(config), glue_database_name(config))
        # the Athena grants live in the analytics stack, one policy per function, on that function's role
        [policy] = [p for k, p in resources(analytics, "AWS::IAM::Policy").items()
                    if k.startswith("Queries" + "".join(part.title() for part in name.split("_")))]
        statements = props(policy)["PolicyDocument"]["Statement"]
        athena = [s for s in statements if "athena:StartQueryExecution" in as_list(s["Action"])]
        assert athena and all(":workgroup/" in str(s["Resource"]) for s in athena)
        assert not any(s["Action"] == "*" or "s3:PutObject" in as_list(s["Action"])
                       and "/results/*" not in str(s["Resource"]) for s in statements)
        # the exports bucket: objects under reports/ only (exports/ too for the route's one-off workbooks)
        object_grants = [s for s in role_statements(api, function_logical_id(api, name, stage))
                         if "s3:PutObject" in as_list(s["Action"])]
        prefixes = {str(s["Resource"]).split("/")[-2] if "/" in str(s["Resource"]) else "" for s in object_grants}
        assert "reports" in str(object_grants) and prefixes
    # the report's wait for the store is bounded by Firehose's delay with dynamic partitioning (1.5 x the
    # buffer interval of the streams), which is short enough for "ready within 60 s of the end"
    from cdk.stacks.analytics_stack import STORE_BUFFER_SECONDS

    settle = int(_env(api, "post_live_report", stage)["REPORT_SETTLE_SECONDS"])
    assert settle == math.ceil(1.5 * STORE_BUFFER_SECONDS) and settle <= 30
    assert "exports/" not in str([s for s in role_statements(api, function_logical_id(api, "post_live_report", stage))
                                  if "s3:PutObject" in as_list(s["Action"])])


def test_live_stats_function(synth, stage):
    api = synth.json(stage, "Api")
    env = _env(api, "live_stats", stage)
    assert env["LIVE_TICKER_SECONDS"] == "55" and "LIVE_STATS_TABLE" in env and "LIVE_STATS_FUNCTION" in env
    assert "INTERACTION_TABLE" in env        # the ticker's audience switch (interaction.follow_audience)
    granted = role_statements(api, function_logical_id(api, "live_stats", stage))
    assert any("iot:Publish" in as_list(s["Action"]) for s in granted)
    assert any("lambda:InvokeFunction" in as_list(s["Action"]) for s in granted)


def test_iot_lifecycle_events_reach_the_live_function(synth, stage):
    analytics = synth.json(stage, "Analytics")
    rules = {props(r)["TopicRulePayload"]["Sql"]: props(r)["TopicRulePayload"]
             for r in resources(analytics, "AWS::IoT::TopicRule").values()}
    assert set(rules) == {"SELECT * FROM '$aws/events/subscriptions/+/+'",
                          "SELECT * FROM '$aws/events/presence/disconnected/+'"}
    for payload in rules.values():
        [action] = payload["Actions"]
        assert "Lambda" in action and not payload["RuleDisabled"]
    permissions = [props(r) for r in resources(analytics, "AWS::Lambda::Permission").values()
                   if props(r)["Principal"] == "iot.amazonaws.com"]
    assert len(permissions) == 2 and all("SourceArn" in p for p in permissions)

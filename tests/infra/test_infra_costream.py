"""Co-streaming's infrastructure (issue 15): the IVS real-time grants of the costream,
costream_events and pk_clock functions (each action on the resource types the Service
Authorization Reference gives it, stages and compositions limited by the `stage` tag), the
EventBridge rule for IVS stage and composition events, and the Media table."""
from __future__ import annotations

import pytest
from aws_cdk import App, Stack

from cdk import nag
from cdk.constructs import grants
from infra_helpers import as_list, function_logical_id, props, resources, role_statements
from livecommerce.manifest import BY_NAME, SUBSCRIPTIONS
from livecommerce.media.spec import MEDIA

ARN = "arn:<AWS::Partition>:ivs:<AWS::Region>:<AWS::AccountId>:{}/*"


def _ivs_grants(template: dict, function: str, stage: str) -> dict[tuple[str, str], dict | None]:
    """(action, resource) -> the statement's Condition, for every ivs: action of the function's role."""
    found: dict[tuple[str, str], dict | None] = {}
    for statement in role_statements(template, function_logical_id(template, function, stage)):
        for action in as_list(statement["Action"]):
            if action.startswith("ivs:"):
                for resource in as_list(statement["Resource"]):
                    key = (action, nag.flatten_resolved(resource))
                    assert key not in found, key   # one statement per action and resource type
                    found[key] = statement.get("Condition")
    return found


def test_statements_split_by_tag_condition():
    """Pure: creating/tagging calls need the request tag, the rest the resource tag; channels
    (tagged by the rooms function, not scoped here) and the default encoder configuration carry none."""
    Stack(App(), "S")   # PolicyStatement needs no scope, but tokens need a jsii runtime
    arns = {t: f"arn:aws:ivs:r:1:{t}/*" for t in ("channel", "stream-key", "stage", "composition",
                                                   "encoder-configuration")}
    statements = grants.ivs_statements(actions=["CreateStage", "GetStage", "StartComposition", "StopComposition",
                                                "TagResource"], resource_arns=arns, tag=("stage", "dev"))
    shapes = {(tuple(s.to_statement_json()["Action"]) if isinstance(s.to_statement_json()["Action"], list)
               else (s.to_statement_json()["Action"],), s.to_statement_json()["Resource"]):
              s.to_statement_json().get("Condition") for s in statements}
    request = {"StringEquals": {"aws:RequestTag/stage": "dev"}}
    resource = {"StringEquals": {"aws:ResourceTag/stage": "dev"}}
    assert shapes == {
        (("ivs:CreateStage", "ivs:TagResource"), arns["stage"]): request,
        (("ivs:GetStage", "ivs:StartComposition"), arns["stage"]): resource,
        (("ivs:TagResource",), arns["composition"]): request,
        (("ivs:StopComposition",), arns["composition"]): resource,
        (("ivs:StartComposition",), arns["channel"]): None,
        (("ivs:StartComposition",), arns["encoder-configuration"]): None,
    }
    # Without a tag nothing is conditioned (the rooms function's channel grants).
    assert all(s.to_statement_json().get("Condition") is None
               for s in grants.ivs_statements(actions=["CreateStage", "GetStage"], resource_arns=arns))
    # TagResource only on what the function creates: never on a channel for the costream function.
    assert grants.ivs_action_types("TagResource", BY_NAME["costream"].ivs_actions) == ("stage", "composition")
    assert grants.ivs_action_types("TagResource", ("GetStage", "TagResource")) == ()


@pytest.mark.parametrize("function", ["costream", "costream_events", "pk_clock"])
def test_stage_functions_grants(synth, stage, function):
    template = synth.json(stage, "Api")
    found = _ivs_grants(template, function, stage)
    spec_actions = BY_NAME[function].ivs_actions
    expected = {(f"ivs:{a}", ARN.format(t)) for a in spec_actions for t in grants.ivs_action_types(a, spec_actions)}
    assert set(found) == expected
    assert not any(r.endswith(("storage-configuration/*", "stream-key/*")) or r == "*" for _, r in found)
    for (action, resource), condition in found.items():
        kind = resource.split(":")[-1].split("/")[0]
        if kind in ("stage", "composition"):
            key = "aws:RequestTag/stage" if action in ("ivs:CreateStage", "ivs:TagResource") else \
                "aws:ResourceTag/stage"
            assert condition == {"StringEquals": {key: stage}}, (action, resource)
        else:
            assert condition is None, (action, resource)
    if function == "costream":
        assert ("ivs:StartComposition", ARN.format("channel")) in found
        assert ("ivs:StartComposition", ARN.format("encoder-configuration")) in found
        assert ("ivs:TagResource", ARN.format("composition")) in found
        assert ("ivs:CreateStage", ARN.format("stage")) in found
    else:
        assert not any(a in ("ivs:CreateStage", "ivs:StartComposition", "ivs:TagResource") for a, _ in found)


def test_stage_events_rule(synth, stage):
    """IVS stage and composition events come on the account's default bus into costream_events,
    with the same DLQ and retry policy as the other subscriptions."""
    template = synth.json(stage, "Api")
    (subscription,) = [s for s in SUBSCRIPTIONS if s.name == "CostreamStageEvents"]
    rules = {props(r)["Name"]: props(r) for r in resources(template, "AWS::Events::Rule").values()}
    rule = rules[f"livecommerce-{stage}-{subscription.name}"]
    assert "EventBusName" not in rule
    assert rule["EventPattern"] == {"source": ["aws.ivs"],
                                    "detail-type": ["IVS Stage Update", "IVS Composition State Change"]}
    (target,) = rule["Targets"]
    assert target["Arn"]["Fn::GetAtt"][0] == function_logical_id(template, "costream_events", stage)
    assert target["RetryPolicy"]["MaximumRetryAttempts"] == synth.config(stage).event_retry_attempts
    assert "DeadLetterConfig" in target


def test_media_table_and_its_readers(synth, stage):
    data = synth.json(stage, "Data")
    (table,) = [props(r) for r in resources(data, "AWS::DynamoDB::Table").values()
                if props(r)["TableName"] == MEDIA.physical_name(synth.config(stage).prefix)]
    assert [i["IndexName"] for i in table["GlobalSecondaryIndexes"]] == ["gsi1"]
    assert table["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}
    api = synth.json(stage, "Api")
    for function in ("costream", "costream_events", "pk_clock"):
        fn = props(api["Resources"][function_logical_id(api, function, stage)])
        assert MEDIA.env_var in fn["Environment"]["Variables"], function

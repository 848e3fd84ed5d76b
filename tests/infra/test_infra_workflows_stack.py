"""The workflows stack: every state machine of the manifest from its ASL file with the spec's
substitutions, least-privilege roles, encrypted logging and X-Ray, alarms to an encrypted topic,
the Scheduler's group and role, and the scheduling and SMS grants of the functions (only those)."""
from __future__ import annotations

import json
import re

import pytest

from infra_helpers import as_list, function_logical_id, props, resources, statements
from livecommerce.manifest import BY_NAME, STATE_MACHINES
from livecommerce.shared.spec import scheduler_role_name
from local import stepfunctions

pytestmark = pytest.mark.infra

DELIVERY_ACTIONS = {"logs:CreateLogDelivery", "logs:DeleteLogDelivery", "logs:DescribeLogGroups",
                    "logs:DescribeResourcePolicies", "logs:GetLogDelivery", "logs:ListLogDeliveries",
                    "logs:PutResourcePolicy", "logs:UpdateLogDelivery", "xray:GetSamplingRules",
                    "xray:GetSamplingTargets", "xray:PutTelemetryRecords", "xray:PutTraceSegments"}


def flat(value) -> str:
    """A CloudFormation value as text (Fn::Join of refs -> '<AWS::Region>' placeholders)."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and "Fn::Join" in value:
        delimiter, items = value["Fn::Join"]
        return delimiter.join(flat(item) for item in items)
    if isinstance(value, dict) and "Ref" in value:
        return f"<{value['Ref']}>"
    return json.dumps(value, sort_keys=True)


def exported(synth, stage: str, value) -> dict:
    """The Api stack's value behind an Fn::ImportValue."""
    name = value["Fn::ImportValue"]
    for output in synth.json(stage, "Api").get("Outputs", {}).values():
        if output.get("Export", {}).get("Name") == name:
            return output["Value"]
    raise KeyError(name)


def by_name(template: dict, type_: str, key: str, name: str) -> tuple[str, dict]:
    (found,) = [(k, r) for k, r in resources(template, type_).items() if props(r).get(key) == name]
    return found


def policy_statements(template: dict, role_ref: dict) -> list[dict]:
    found = []
    for logical_id, statement in statements(template):
        resource = template["Resources"][logical_id]
        if resource["Type"] == "AWS::IAM::Policy" and role_ref in props(resource)["Roles"]:
            found.append(statement)
    return found


def test_every_state_machine_is_its_asl_file_with_the_specs_substitutions(synth, stage):
    template, config = synth.json(stage, "Workflows"), synth.config(stage)
    assert len(resources(template, "AWS::StepFunctions::StateMachine")) == len(STATE_MACHINES) >= 1
    for machine in STATE_MACHINES:
        logical_id, resource = by_name(template, "AWS::StepFunctions::StateMachine", "StateMachineName",
                                       machine.physical_name(config.prefix))
        p = props(resource)
        assert json.loads(p["DefinitionString"]) == json.loads(stepfunctions.STATEMACHINES.joinpath(
            f"{machine.asl}.asl.json").read_text())
        assert p["StateMachineType"] == "STANDARD"
        # Every ${...} in the file, each filled with its task function's ARN (from the Api stack).
        placeholders = set(re.findall(r"\$\{(\w+)\}", p["DefinitionString"]))
        assert set(p["DefinitionSubstitutions"]) == placeholders == {ph for ph, _ in machine.tasks}
        api = synth.json(stage, "Api")
        for placeholder, function in machine.tasks:
            value = exported(synth, stage, p["DefinitionSubstitutions"][placeholder])
            assert value == {"Fn::GetAtt": [function_logical_id(api, function, stage), "Arn"]}
        # Logging (level ALL, no execution data) to an encrypted log group with the stage's retention; X-Ray on.
        logging = p["LoggingConfiguration"]
        assert logging["Level"] == "ALL" and logging["IncludeExecutionData"] is False
        (destination,) = logging["Destinations"]
        group_id = destination["CloudWatchLogsLogGroup"]["LogGroupArn"]["Fn::GetAtt"][0]
        group = props(template["Resources"][group_id])
        assert group["LogGroupName"].startswith("/aws/vendedlogs/states/")
        assert group["KmsKeyId"]["Fn::GetAtt"][0] in resources(template, "AWS::KMS::Key")
        assert group["RetentionInDays"] > 0
        assert p["TracingConfiguration"] == {"Enabled": True}


def test_state_machine_roles_are_least_privilege(synth, stage):
    template, config = synth.json(stage, "Workflows"), synth.config(stage)
    api = synth.json(stage, "Api")
    for machine in STATE_MACHINES:
        name = machine.physical_name(config.prefix)
        _id, resource = by_name(template, "AWS::StepFunctions::StateMachine", "StateMachineName", name)
        role_id = props(resource)["RoleArn"]["Fn::GetAtt"][0]
        role = props(template["Resources"][role_id])
        (trust,) = role["AssumeRolePolicyDocument"]["Statement"]
        assert trust["Principal"] == {"Service": "states.amazonaws.com"}
        found = policy_statements(template, {"Ref": role_id})
        by_action: dict[str, list] = {}
        for statement in found:
            assert statement["Effect"] == "Allow"
            for action in as_list(statement["Action"]):
                by_action.setdefault(action, []).extend(as_list(statement["Resource"]))
        tasks = [{"Fn::GetAtt": [function_logical_id(api, function, stage), "Arn"]} for _ph, function in machine.tasks]
        assert [exported(synth, stage, r) for r in by_action.pop("lambda:InvokeFunction")] == tasks
        if machine.distributed_map:
            (start,) = by_action.pop("states:StartExecution")
            assert flat(start).endswith(f":stateMachine:{name}")
            for action in ("states:DescribeExecution", "states:StopExecution"):
                (executions,) = by_action.pop(action)
                assert flat(executions).endswith(f":execution:{name}/*")
        # What is left: only the log-delivery and X-Ray actions, which take no resource.
        assert set(by_action) == DELIVERY_ACTIONS
        assert all(resources_ == ["*"] for resources_ in by_action.values())


def test_alarms_on_failed_timed_out_and_aborted_executions_go_to_an_encrypted_topic(synth, stage):
    template = synth.json(stage, "Workflows")
    (topic_id, topic), = resources(template, "AWS::SNS::Topic").items()
    assert "KmsMasterKeyId" in props(topic)
    (key_id, key), = resources(template, "AWS::KMS::Key").items()
    assert props(key)["EnableKeyRotation"] is True
    assert props(topic)["KmsMasterKeyId"] == {"Fn::GetAtt": [key_id, "Arn"]}
    # The key lets CloudWatch use it for the topic (an encrypted topic otherwise drops alarm messages).
    key_principals = [s["Principal"] for s in props(key)["KeyPolicy"]["Statement"]]
    assert {"Service": "cloudwatch.amazonaws.com"} in key_principals
    alarms = [props(a) for a in resources(template, "AWS::CloudWatch::Alarm").values()]
    for machine_id in resources(template, "AWS::StepFunctions::StateMachine"):
        watched = {a["MetricName"] for a in alarms if a["Dimensions"] == [
            {"Name": "StateMachineArn", "Value": {"Ref": machine_id}}]}
        assert watched == {"ExecutionsFailed", "ExecutionsTimedOut", "ExecutionsAborted"}
    for alarm in alarms:
        assert alarm["Namespace"] == "AWS/States" and alarm["Threshold"] == 1
        assert alarm["AlarmActions"] == [{"Ref": topic_id}]
        assert alarm["TreatMissingData"] == "notBreaching"


def test_scheduler_group_role_and_the_functions_environment_agree(synth, stage):
    template, config = synth.json(stage, "Workflows"), synth.config(stage)
    api = synth.json(stage, "Api")
    scheduled = [m for m in STATE_MACHINES if m.scheduled]
    assert scheduled, "the reminder machine is scheduled"
    role_id, role = by_name(template, "AWS::IAM::Role", "RoleName", scheduler_role_name(config.prefix))
    (trust,) = props(role)["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "scheduler.amazonaws.com"}
    assert "aws:SourceAccount" in trust["Condition"]["StringEquals"]
    # The scheduler's role may start the scheduled machines and nothing else.
    found = policy_statements(template, {"Ref": role_id})
    machine_ids = {by_name(template, "AWS::StepFunctions::StateMachine", "StateMachineName",
                           m.physical_name(config.prefix))[0] for m in scheduled}
    assert [(s["Action"], s["Resource"]) for s in found] == [("states:StartExecution", [
        {"Ref": i} for i in sorted(machine_ids)] if len(machine_ids) > 1 else {"Ref": next(iter(machine_ids))})]
    for machine in scheduled:
        group_id, _group = by_name(template, "AWS::Scheduler::ScheduleGroup", "Name",
                                   machine.schedule_group(config.prefix))
        for spec in (s for s in BY_NAME.values() if machine.key in s.schedules_workflows):
            env = props(api["Resources"][function_logical_id(api, spec.name, stage)])["Environment"]["Variables"]
            prefix = machine.env_prefix
            assert flat(env[f"{prefix}_STATE_MACHINE_ARN"]).endswith(
                f":states:<AWS::Region>:<AWS::AccountId>:stateMachine:{machine.physical_name(config.prefix)}")
            assert env[f"{prefix}_SCHEDULE_GROUP"] == machine.schedule_group(config.prefix)
            assert flat(env["SCHEDULER_ROLE_ARN"]).endswith(f":iam::<AWS::AccountId>:role/{scheduler_role_name(config.prefix)}")
    # The function that schedules reminders gets exactly this environment.
    env = props(api["Resources"][function_logical_id(api, "reminder_schedules", stage)])["Environment"]["Variables"]
    assert {"REMINDER_STATE_MACHINE_ARN", "REMINDER_SCHEDULE_GROUP", "SCHEDULER_ROLE_ARN"} <= set(env)


def test_only_the_functions_that_ask_get_scheduler_passrole_and_sms_grants(synth, stage):
    template, config = synth.json(stage, "Workflows"), synth.config(stage)
    api = synth.json(stage, "Api")
    role_id, _role = by_name(template, "AWS::IAM::Role", "RoleName", scheduler_role_name(config.prefix))
    granted: dict[str, list[dict]] = {}
    for logical_id, resource in resources(template, "AWS::IAM::Policy").items():
        for role in props(resource)["Roles"]:
            if "Fn::ImportValue" not in role:
                continue
            (function,) = [name for name in BY_NAME if {"Ref": api["Resources"][function_logical_id(
                api, name, stage)]["Properties"]["Role"]["Fn::GetAtt"][0]} == exported(synth, stage, role)]
            granted.setdefault(function, []).extend(props(resource)["PolicyDocument"]["Statement"])
    assert set(granted) == {s.name for s in BY_NAME.values()
                            if s.schedules_workflows or s.sends_sms or s.starts_workflows}
    assert set(granted) == {"reminder_schedules", "notify_tasks", "replay_tasks",   # replay_tasks: test_infra_replays
                            "notice_triggers", "notice_tasks"}                    # post-live notices (below)
    for name, groups in (("notice_triggers", ("non_buyer_notices", "order_summary_notices", "room_preview_notices")),):
        scheduling = [st for st in granted[name] if str(st["Action"]).startswith("['scheduler:")
                      or (isinstance(st["Action"], list) and st["Action"][0].startswith("scheduler:"))]
        assert sorted(flat(resource).rsplit(":schedule/", 1)[1] for st in scheduling
                      for resource in as_list(st["Resource"])) == sorted(
            f"{config.prefix}-{group}/*" for group in groups)
    for name in ("notice_triggers", "notice_tasks"):
        sms = [st for st in granted[name] if st["Action"] == "sns:Publish"]
        assert sorted((st["Effect"], st["Resource"]) for st in sms) == [("Allow", "*"), ("Deny", "arn:*:sns:*:*:*")]
    schedules, passrole = granted["reminder_schedules"]
    assert sorted(as_list(schedules["Action"])) == ["scheduler:CreateSchedule", "scheduler:DeleteSchedule",
                                                    "scheduler:UpdateSchedule"]
    assert flat(schedules["Resource"]).endswith(f":schedule/{config.prefix}-reminders/*")
    assert passrole["Action"] == "iam:PassRole"
    assert passrole["Resource"] == {"Fn::GetAtt": [role_id, "Arn"]}
    assert passrole["Condition"] == {"StringEquals": {"iam:PassedToService": "scheduler.amazonaws.com"}}
    allow, deny = granted["notify_tasks"]
    assert (allow["Effect"], allow["Action"], allow["Resource"]) == ("Allow", "sns:Publish", "*")
    assert (deny["Effect"], deny["Action"], deny["Resource"]) == ("Deny", "sns:Publish", "arn:*:sns:*:*:*")
    # No other policy anywhere in the stage grants these.
    for part in ("Data", "Media", "Api", "Realtime"):
        for _id, statement in statements(synth.json(stage, part)):
            assert not {a for a in as_list(statement["Action"])
                        if a.startswith(("scheduler:", "sns:Publish", "iam:PassRole", "states:"))}, (part, statement)

"""Step Functions workflows: every state machine of the manifest (livecommerce.manifest.STATE_MACHINES),
defined by its statemachines/<asl>.asl.json file.

Built after the API stack, whose functions are the machines' tasks:

- one state machine per StateMachineSpec, DefinitionBody from the ASL file and
  DefinitionSubstitutions from the spec's `tasks` (the same table local/stepfunctions.py fills
  locally, so the file that runs on `make local` is the file that deploys; a placeholder
  nobody fills, or a value for one the file does not have, fails the synth);
- one role per machine: lambda:InvokeFunction on its task functions only; a machine with a
  Distributed Map may start child executions of itself (states:StartExecution on its own ARN)
  and describe or stop them (its own executions only); logging and X-Ray delivery (CDK's
  standard statements: those APIs take no resource);
- logging (level ALL, without execution data: inputs carry viewer ids) to an encrypted log
  group with the stage's retention, and X-Ray tracing on;
- alarms on failed, timed-out and aborted executions, to the stage's alarm topic (SNS, encrypted
  with this stack's key, TLS only), which this stack creates;
- for scheduled machines, an EventBridge Scheduler schedule group and the scheduler's execution
  role (states:StartExecution on the scheduled machines only, assumable only by Scheduler for
  schedules of this account's groups);
- the grants of the functions that ask for them in their FunctionSpec: `schedules_workflows`
  (scheduler:Create/Update/Get/DeleteSchedule on schedules of that group, iam:PassRole of the
  scheduler role to Scheduler only) and `sends_sms` (sns:Publish to phone numbers).

The functions' environment (`<KEY>_STATE_MACHINE_ARN`, `<KEY>_SCHEDULE_GROUP`, `SCHEDULER_ROLE_ARN`)
is computed from the config (function_environment(), called by the API stack), so the API stack
never references this one: the dependency runs one way, Workflows -> Api -> Data. A test checks
that the computed values are the ARNs and names of the resources made here.
"""
from __future__ import annotations

import re
from pathlib import Path

from aws_cdk import ArnFormat, Aws, CfnOutput, Duration, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_sns as sns
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from cdk import nag
from cdk.config import StageConfig
from livecommerce.manifest import FUNCTION_SPECS, STATE_MACHINES, STATE_MACHINES_BY_KEY
from livecommerce.shared.spec import FunctionSpec, StateMachineSpec, scheduler_role_name

ROOT = Path(__file__).resolve().parents[2]
STATEMACHINES_DIR = ROOT / "statemachines"
_PLACEHOLDER = re.compile(r"\$\{([A-Za-z0-9_]+)\}")

# What the schedule-managing functions call (notifications.schedules): create, move, read, delete.
SCHEDULER_ACTIONS = ("scheduler:CreateSchedule", "scheduler:DeleteSchedule", "scheduler:UpdateSchedule")
# Every SNS topic and platform endpoint, in any partition: denied to the SMS senders.
SNS_ANY_ARN = "arn:*:sns:*:*:*"
# The execution metrics that mean a run did not finish as designed.
ALARMED_METRICS = (("Failed", "metric_failed"), ("TimedOut", "metric_timed_out"), ("Aborted", "metric_aborted"))

REASONS = {
    "sfn_delivery": "Step Functions logging to CloudWatch Logs (logs:CreateLogDelivery, GetLogDelivery, "
                    "UpdateLogDelivery, DeleteLogDelivery, ListLogDeliveries, PutResourcePolicy, "
                    "DescribeResourcePolicies, DescribeLogGroups) and X-Ray (xray:PutTraceSegments, "
                    "PutTelemetryRecords, GetSamplingRules, GetSamplingTargets) support no resource-level "
                    "permissions: AWS documents Resource '*' for them. The role has nothing else on '*'.",
    "child_executions": "A Distributed Map runs its items as child executions of this state machine, named by "
                        "Step Functions at run time; the role may describe and stop executions of this one "
                        "state machine only (execution:<name>/*, the form the Step Functions guide gives for "
                        "Distributed Map).",
    "schedules": "Schedules are created per room at run time (room-<room_id>-<kind>); the grant is on schedules "
                 "of this stage's reminder schedule group only ({group}/*), for exactly the actions the "
                 "function calls.",
    "sms": "SNS Publish to a phone number (SMS) has no resource ARN: AWS requires Resource '*'. A Deny "
           "statement on every SNS topic and endpoint ARN keeps this role from publishing anywhere but "
           "to phone numbers.",
}


def asl_path(machine: StateMachineSpec) -> Path:
    return STATEMACHINES_DIR / f"{machine.asl}.asl.json"


def placeholders(machine: StateMachineSpec) -> set[str]:
    return set(_PLACEHOLDER.findall(asl_path(machine).read_text()))


def function_environment(stack: Stack, config: StageConfig, spec: FunctionSpec) -> dict[str, str]:
    """The environment a function that schedules workflows gets, computed (no reference to this stack)."""
    env: dict[str, str] = {}
    prefix = config.prefix
    for key in spec.starts_workflows:   # StartExecution directly (the replay machine)
        machine = STATE_MACHINES_BY_KEY.get(key)
        if machine is None:
            raise LookupError(f"function {spec.name!r} starts {key!r}, which is no StateMachineSpec")
        env[f"{machine.env_prefix}_STATE_MACHINE_ARN"] = state_machine_arn(stack, prefix, machine)
    if not spec.schedules_workflows:
        return env
    for key in spec.schedules_workflows:
        machine = STATE_MACHINES_BY_KEY.get(key)
        if machine is None or not machine.scheduled:
            raise LookupError(f"function {spec.name!r} schedules {key!r}, which is no scheduled StateMachineSpec")
        env[f"{machine.env_prefix}_STATE_MACHINE_ARN"] = state_machine_arn(stack, prefix, machine)
        env[f"{machine.env_prefix}_SCHEDULE_GROUP"] = machine.schedule_group(prefix)
    env["SCHEDULER_ROLE_ARN"] = scheduler_role_arn(stack, prefix)
    return env


def state_machine_arn(stack: Stack, prefix: str, machine: StateMachineSpec) -> str:
    return stack.format_arn(service="states", resource="stateMachine", resource_name=machine.physical_name(prefix),
                            arn_format=ArnFormat.COLON_RESOURCE_NAME)


def scheduler_role_arn(stack: Stack, prefix: str) -> str:
    return stack.format_arn(service="iam", region="", resource="role", resource_name=scheduler_role_name(prefix))


def _title(name: str) -> str:
    return "".join(part.title() for part in re.split(r"[_-]", name))


class WorkflowsStack(Stack):
    def __init__(self, scope: Construct, id: str, *, config: StageConfig, api, **kwargs) -> None:
        super().__init__(scope, id, **kwargs)
        self.config = config
        self.add_stack_dependency(api, "the state machines' tasks and the scheduling functions are the API stack's")
        prefix = config.prefix

        # One key for the workflows' log groups and the alarm topic.
        self.key = kms.Key(self, "Key", alias=f"alias/{prefix}-workflows", enable_key_rotation=True,
                           description=f"{prefix}: state machine logs and the alarm topic",
                           removal_policy=config.removal_policy)
        self.key.add_to_resource_policy(iam.PolicyStatement(
            principals=[iam.ServicePrincipal(f"logs.{Aws.REGION}.amazonaws.com")],
            actions=["kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey", "kms:ReEncryptFrom",
                     "kms:ReEncryptTo"],
            resources=["*"],
            conditions={"ArnLike": {"kms:EncryptionContext:aws:logs:arn": self.format_arn(
                service="logs", resource="log-group", resource_name=f"/aws/vendedlogs/states/{prefix}-*",
                arn_format=ArnFormat.COLON_RESOURCE_NAME)}},
        ))
        # CloudWatch alarms publish to the encrypted topic (SNS developer guide, "Enable compatibility
        # between event sources from AWS services and encrypted topics").
        self.key.add_to_resource_policy(iam.PolicyStatement(
            principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
            actions=["kms:Decrypt", "kms:GenerateDataKey*"],
            resources=["*"],
            conditions={"StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID}},
        ))

        self.alarm_topic = sns.Topic(self, "AlarmTopic", topic_name=f"{prefix}-alarms",
                                     display_name=f"{prefix} alarms", master_key=self.key, enforce_ssl=True)
        self.alarm_topic.add_to_resource_policy(iam.PolicyStatement(
            principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
            actions=["sns:Publish"],
            resources=[self.alarm_topic.topic_arn],
            conditions={"StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID}},
        ))
        alarm_action = cloudwatch_actions.SnsAction(self.alarm_topic)

        self.state_machines: dict[str, sfn.StateMachine] = {}
        self.roles: dict[str, iam.Role] = {}
        self.log_groups: dict[str, logs.LogGroup] = {}
        self.alarms: dict[str, cloudwatch.Alarm] = {}
        for machine in STATE_MACHINES:
            self._machine(machine, api, alarm_action)

        # EventBridge Scheduler: one group per scheduled machine; one role that starts them.
        scheduled = [machine for machine in STATE_MACHINES if machine.scheduled]
        self.schedule_groups: dict[str, scheduler.CfnScheduleGroup] = {}
        self.scheduler_role: iam.Role | None = None
        if scheduled:
            for machine in scheduled:
                self.schedule_groups[machine.key] = scheduler.CfnScheduleGroup(
                    self, f"{_title(machine.key)}ScheduleGroup", name=machine.schedule_group(prefix))
            self.scheduler_role = iam.Role(
                self, "SchedulerRole",
                role_name=scheduler_role_name(prefix),
                description=f"{prefix}: EventBridge Scheduler starts the scheduled state machines",
                assumed_by=iam.ServicePrincipal("scheduler.amazonaws.com", conditions={
                    "StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID},
                    "ArnLike": {"aws:SourceArn": [
                        self.format_arn(service="scheduler", resource="schedule",
                                        resource_name=f"{machine.schedule_group(prefix)}/*")
                        for machine in scheduled]},
                }),
            )
            self.scheduler_role.add_to_policy(iam.PolicyStatement(
                actions=["states:StartExecution"],
                resources=[self.state_machines[machine.key].state_machine_arn for machine in scheduled]))

        # What the functions need to schedule workflows and send SMS.
        self.function_policies: dict[str, iam.Policy] = {}
        for spec in FUNCTION_SPECS:
            self._function_grants(spec, api)

        for key, machine in self.state_machines.items():
            CfnOutput(self, f"{_title(key)}StateMachineArn", value=machine.state_machine_arn)
        CfnOutput(self, "AlarmTopicArn", value=self.alarm_topic.topic_arn)

    def _machine(self, machine: StateMachineSpec, api, alarm_action) -> None:
        config, prefix = self.config, self.config.prefix
        name = machine.physical_name(prefix)
        wanted = placeholders(machine)
        given = {placeholder for placeholder, _function in machine.tasks}
        if wanted != given:
            raise ValueError(f"{asl_path(machine).name}: substitutions {sorted(wanted)} but the StateMachineSpec "
                             f"fills {sorted(given)}")
        functions = {function: api.functions[function].function for _placeholder, function in machine.tasks}
        title = _title(machine.key)

        role = iam.Role(self, f"{title}Role", assumed_by=iam.ServicePrincipal(
            "states.amazonaws.com", conditions={"StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID}}),
            description=f"Step Functions {name}")
        role.add_to_policy(iam.PolicyStatement(
            actions=["lambda:InvokeFunction"],
            resources=sorted({fn.function_arn for fn in functions.values()}, key=str)))
        own_arn = state_machine_arn(self, prefix, machine)
        if machine.distributed_map:
            executions = self.format_arn(service="states", resource="execution", resource_name=f"{name}/*",
                                         arn_format=ArnFormat.COLON_RESOURCE_NAME)
            role.add_to_policy(iam.PolicyStatement(actions=["states:StartExecution"], resources=[own_arn]))
            role.add_to_policy(iam.PolicyStatement(actions=["states:DescribeExecution", "states:StopExecution"],
                                                   resources=[executions]))
            nag.acknowledge(role, f"AwsSolutions-IAM5[Resource::{nag.flatten(self, executions)}]",
                            REASONS["child_executions"])
        nag.acknowledge(role, "AwsSolutions-IAM5[Resource::*]", REASONS["sfn_delivery"])

        log_group = logs.LogGroup(self, f"{title}Logs", log_group_name=f"/aws/vendedlogs/states/{name}",
                                  retention=config.log_retention, encryption_key=self.key,
                                  removal_policy=config.removal_policy)
        state_machine = sfn.StateMachine(
            self, f"{title}StateMachine",
            state_machine_name=name,
            state_machine_type=sfn.StateMachineType.STANDARD,
            # Inline (DefinitionString), not an S3 asset: the template shows what deploys.
            definition_body=sfn.DefinitionBody.from_string(asl_path(machine).read_text()),
            definition_substitutions={placeholder: functions[function].function_arn
                                      for placeholder, function in machine.tasks},
            role=role,
            logs=sfn.LogOptions(destination=log_group, level=sfn.LogLevel.ALL, include_execution_data=False),
            tracing_enabled=True,
            comment=machine.description or None,
        )
        self.state_machines[machine.key] = state_machine
        self.roles[machine.key] = role
        self.log_groups[machine.key] = log_group
        for label, metric_name in ALARMED_METRICS:
            metric = getattr(state_machine, metric_name)(period=Duration.minutes(5), statistic="Sum")
            alarm = cloudwatch.Alarm(
                self, f"{title}{label}Alarm",
                alarm_name=f"{name}-executions-{label.lower()}",
                alarm_description=f"{name}: an execution ended {label.lower()} (see its history and the log group "
                                  f"/aws/vendedlogs/states/{name})",
                metric=metric, threshold=1, evaluation_periods=1,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            )
            alarm.add_alarm_action(alarm_action)
            self.alarms[f"{machine.key}:{label}"] = alarm

    def _function_grants(self, spec: FunctionSpec, api) -> None:
        prefix = self.config.prefix
        statements: list[iam.PolicyStatement] = []
        acknowledgements: list[tuple[str, str]] = []
        for key in spec.schedules_workflows:
            machine = STATE_MACHINES_BY_KEY[key]
            group = machine.schedule_group(prefix)
            schedules = self.format_arn(service="scheduler", resource="schedule", resource_name=f"{group}/*")
            statements.append(iam.PolicyStatement(actions=list(SCHEDULER_ACTIONS), resources=[schedules]))
            acknowledgements.append((f"AwsSolutions-IAM5[Resource::{nag.flatten(self, schedules)}]",
                                     REASONS["schedules"].format(group=group)))
        if spec.schedules_workflows:
            statements.append(iam.PolicyStatement(
                actions=["iam:PassRole"], resources=[self.scheduler_role.role_arn],
                conditions={"StringEquals": {"iam:PassedToService": "scheduler.amazonaws.com"}}))
        if spec.starts_workflows:
            statements.append(iam.PolicyStatement(actions=["states:StartExecution"], resources=[
                self.state_machines[key].state_machine_arn for key in spec.starts_workflows]))
        if spec.sends_sms:
            statements.append(iam.PolicyStatement(actions=["sns:Publish"], resources=["*"]))
            statements.append(iam.PolicyStatement(effect=iam.Effect.DENY, actions=["sns:Publish"],
                                                  resources=[SNS_ANY_ARN]))
            acknowledgements.append(("AwsSolutions-IAM5[Resource::*]", REASONS["sms"]))
        if not statements:
            return
        policy = iam.Policy(self, f"{_title(spec.name)}WorkflowGrants",
                            roles=[api.functions[spec.name].role], statements=statements)
        for rule_id, reason in acknowledgements:
            nag.acknowledge(policy, rule_id, reason)
        self.function_policies[spec.name] = policy

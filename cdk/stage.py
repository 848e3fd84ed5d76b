"""Build the app: the stacks of each stage, the cdk-nag checks over all of it.

    app = create_app(stage="dev")        # or None for every stage
    app.synth()

build_stage() is the one place that lists a stage's stacks: a new stack (media,
realtime, workflows, ...) is one more line there, taking what it needs from the
stacks built before it.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import jsii
from aws_cdk import App, Aspects, Environment, IAspect, Tags
from aws_cdk import aws_lambda as lambda_
from constructs import IConstruct

from cdk import nag
from cdk.config import PROJECT, StageConfig, environment, stages_for
from cdk.stacks.analytics_stack import AnalyticsStack
from cdk.stacks.api_stack import ApiStack
from cdk.stacks.data_stack import DataStack
from cdk.stacks.media_stack import MediaStack
from cdk.stacks.observability_stack import ObservabilityStack
from cdk.stacks.replay_edge_stack import EDGE_REGION, ReplayEdgeStack
from cdk.stacks.realtime_stack import RealtimeStack
from cdk.stacks.web_stack import WebStack
from cdk.stacks.workflows_stack import WorkflowsStack

ROOT = Path(__file__).resolve().parent.parent

# Feature flags the stacks rely on. create_app() passes them, with cdk.json's
# context, to the App itself, so an App built in-process (the infra tests)
# behaves exactly like one run by `cdk synth`.
FEATURE_FLAGS = {
    # S3 access-log delivery through a bucket policy, not the legacy ACL (which
    # would not work with owner-enforced object ownership).
    "@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy": True,
    # A changed authorizer gets a new API deployment.
    "@aws-cdk/aws-apigateway:authorizerChangeDeploymentLogicalId": True,
    # Cross-stack references (Media -> Data, Api -> Data and Media, Realtime -> Data and Api) as CloudFormation
    # exports: a stack cannot be deleted while a later one still uses it.
    "@aws-cdk/core:defaultCrossStackReferences": "strong",
}


@jsii.implements(IAspect)
class StageEnvironment:
    """Every Lambda function of a stage's stacks gets STAGE=<stage name> (the functions
    refuse to start without one, and the name is never "local": cdk/config.py)."""

    def __init__(self, stage: str) -> None:
        self.stage = stage

    def visit(self, node: IConstruct) -> None:
        if isinstance(node, lambda_.Function):
            node.add_environment("STAGE", self.stage)


@dataclass(frozen=True)
class StageStacks:
    config: StageConfig
    data: DataStack
    media: MediaStack
    api: ApiStack
    realtime: RealtimeStack
    analytics: AnalyticsStack
    workflows: WorkflowsStack
    # us-east-1 (Lambda@Edge): the replay distribution's viewer-request function. Not in the
    # StageEnvironment aspect: Lambda@Edge functions have no environment variables.
    replay_edge: ReplayEdgeStack
    # The web clients (console, viewer page, operations): web/dist on S3 behind CloudFront.
    web: WebStack
    # Alarms and the stage's dashboard (cdk/stacks/observability_stack.py).
    observability: ObservabilityStack

    @property
    def all(self) -> tuple:
        return (self.data, self.media, self.api, self.realtime, self.analytics, self.workflows, self.replay_edge,
                self.web, self.observability)


def build_stage(app: App, config: StageConfig) -> StageStacks:
    env = environment()
    common = dict(env=env, termination_protection=config.retain_data)
    data = DataStack(app, config.stack_name("Data"), config=config,
                     description=f"Live commerce {config.name}: tables, buckets, event bus, secrets", **common)
    # Lambda@Edge lives in us-east-1 whatever the stage's region: that stack's region is explicit
    # (the account stays the CLI's, or unknown at synth); the media stack reads its version from SSM.
    replay_edge = ReplayEdgeStack(
        app, config.stack_name("ReplayEdge"), config=config,
        env=Environment(account=env.account if env else None, region=EDGE_REGION),
        termination_protection=config.retain_data,
        description=f"Live commerce {config.name}: the replay distribution's token check (Lambda@Edge, us-east-1)")
    media = MediaStack(app, config.stack_name("Media"), config=config, data=data, replay_edge=replay_edge,
                       description=f"Live commerce {config.name}: IVS recording, playback key pair, playback CDN",
                       **common)
    # Before the API: the rooms function copies public covers into the web stack's public-covers bucket.
    web = WebStack(app, config.stack_name("Web"), config=config,
                   description=f"Live commerce {config.name}: web clients (S3 + CloudFront with origin access control)",
                   **common)
    api = ApiStack(app, config.stack_name("Api"), config=config, data=data, media=media, web=web,
                   description=f"Live commerce {config.name}: REST API, functions, WAF, event consumers",
                   **common)
    realtime = RealtimeStack(app, config.stack_name("Realtime"), config=config, data=data, api=api,
                             description=f"Live commerce {config.name}: IoT Core custom authorizer, "
                                         "interaction stream consumers",
                             **common)
    workflows = WorkflowsStack(app, config.stack_name("Workflows"), config=config, api=api,
                               description=f"Live commerce {config.name}: Step Functions workflows, their "
                                           "schedules and alarms",
                               **common)
    analytics = AnalyticsStack(app, config.stack_name("Analytics"), config=config, data=data, api=api,
                               description=f"Live commerce {config.name}: analytics store (Firehose, S3 Parquet, "
                                           "Glue, Athena), domain events to the store",
                               **common)
    # Alarms and one dashboard (issue 17): to the workflows stack's alarm topic, one topic per stage.
    observability = ObservabilityStack(
        app, config.stack_name("Observability"), config=config,
        function_names={name: api.function_name(name) for name in api.functions},
        alarm_topic=workflows.alarm_topic,
        description=f"Live commerce {config.name}: alarms (API, Lambda, DynamoDB, DLQ, IoT Core) and the dashboard",
        **common)
    stacks = StageStacks(config=config, data=data, media=media, api=api, realtime=realtime, analytics=analytics, workflows=workflows,
                         replay_edge=replay_edge, web=web, observability=observability)
    for stack in stacks.all:
        Tags.of(stack).add("project", PROJECT)
        Tags.of(stack).add("stage", config.name)
        if stack is not replay_edge:
            Aspects.of(stack).add(StageEnvironment(config.name))
    return stacks


def cdk_json_context() -> dict:
    path = ROOT / "cdk.json"
    return dict(json.loads(path.read_text()).get("context", {})) if path.is_file() else {}


def create_app(stage: str | None = None, *, outdir: str | None = None,
               use_stage_context: bool = True) -> tuple[App, list[StageStacks]]:
    """The app with the stacks of `stage` (None: the `stage` context, else all stages)."""
    app = App(context={**cdk_json_context(), **FEATURE_FLAGS}, outdir=outdir)
    if stage is None and use_stage_context:
        stage = app.node.try_get_context("stage") or None
    built = [build_stage(app, config) for config in stages_for(stage)]
    nag.add_checks(app)
    return app, built

"""Lambda functions the project's way: Python on arm64, code from functions/<name>/
(handler.handler), the shared layer, X-Ray active tracing, its own log group with
a retention, and its own role with no managed policies (only what is granted).

Deploy-time helpers (custom resources) pass `code_dir` to use a folder under
cdk/ instead of functions/<name>/."""
from __future__ import annotations

from pathlib import Path
from typing import Mapping, Sequence

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from cdk import nag

ROOT = Path(__file__).resolve().parents[2]
FUNCTIONS_DIR = ROOT / "functions"
# cdk-nag AwsSolutions-L1 wants the newest Python runtime this aws-cdk-lib knows.
# Bump together with aws-cdk-lib; the layer is built for the same version.
RUNTIME = lambda_.Runtime.PYTHON_3_14
ARCHITECTURE = lambda_.Architecture.ARM_64
ASSET_EXCLUDES = ["__pycache__", "*.pyc", ".pytest_cache"]
# The alias API Gateway invokes on a SnapStart function (its latest published version).
LIVE_ALIAS = "live"


def runtime_python_version(runtime: lambda_.Runtime = RUNTIME) -> str:
    """'python3.14' -> '3.14' (the version the layer's wheels are chosen for)."""
    return runtime.name.removeprefix("python")


class LambdaFunction(Construct):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        name: str,
        function_name: str,
        description: str,
        environment: Mapping[str, str],
        layers: Sequence[lambda_.ILayerVersion],
        memory_mb: int,
        timeout: Duration,
        log_retention: logs.RetentionDays,
        removal_policy: RemovalPolicy,
        dead_letter_queue: sqs.IQueue | None = None,
        code_dir: Path | None = None,
        unscoped_action_reasons: Sequence[str] = (),
        snap_start: bool = False,
    ) -> None:
        """unscoped_action_reasons: why the role's other statements with Resource '*'
        (actions that take no resource, granted by the caller) need it; they share
        the one AwsSolutions-IAM5[Resource::*] finding of the role with X-Ray.

        snap_start: Lambda SnapStart on published versions (docs/cold-start.md): each deploy
        publishes a version (its init runs then, and Lambda snapshots it) and points the alias
        `live` at it; callers invoke `invocable` (the alias), never $LATEST, which SnapStart
        does not serve."""
        super().__init__(scope, id)
        code_dir = code_dir or FUNCTIONS_DIR / name
        if not (code_dir / "handler.py").is_file():
            raise FileNotFoundError(f"{code_dir}/handler.py is missing (function {name!r})")

        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"Lambda {function_name}",
        )
        self.log_group = logs.LogGroup(
            self,
            "Logs",
            log_group_name=f"/aws/lambda/{function_name}",
            retention=log_retention,
            removal_policy=removal_policy,
        )
        # Instead of the AWSLambdaBasicExecutionRole managed policy: this log group only.
        self.log_group.grant_write(self.role)

        self.function = lambda_.Function(
            self,
            "Function",
            function_name=function_name,
            description=description,
            runtime=RUNTIME,
            architecture=ARCHITECTURE,
            handler="handler.handler",
            code=lambda_.Code.from_asset(str(code_dir), exclude=ASSET_EXCLUDES),
            layers=list(layers),
            environment=dict(environment),
            memory_size=memory_mb,
            timeout=timeout,
            tracing=lambda_.Tracing.ACTIVE,
            role=self.role,
            log_group=self.log_group,
            dead_letter_queue=dead_letter_queue,
            snap_start=lambda_.SnapStartConf.ON_PUBLISHED_VERSIONS if snap_start else None,
        )
        # What callers invoke: the `live` alias of the latest published version under SnapStart.
        self.alias: lambda_.Alias | None = None
        self.invocable: lambda_.IFunction = self.function
        if snap_start:
            self.alias = lambda_.Alias(self, "Live", alias_name=LIVE_ALIAS, version=self.function.current_version)
            self.invocable = self.alias
        nag.acknowledge(
            self.role,
            "AwsSolutions-IAM5[Resource::*]",
            " ".join(("X-Ray active tracing: xray:PutTraceSegments and xray:PutTelemetryRecords "
                      "support no resource-level permissions, so AWS requires Resource '*'.",
                      *unscoped_action_reasons)),
        )

    def add_to_role_policy(self, statement: iam.PolicyStatement) -> None:
        self.role.add_to_principal_policy(statement)

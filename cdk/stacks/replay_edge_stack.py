"""The replay distribution's viewer-request Lambda@Edge, in us-east-1 (Lambda@Edge's only region),
one stack per stage: ``LiveCommerce-<stage>-ReplayEdge``.

    function  <prefix>-replay-edge   cdk/assets/replay_edge + keys.mjs (the stage's replay_public_keys)
    version   published; CloudFront needs a numbered version (not $LATEST, not an alias)
    parameter /<prefix>/replay-edge/version-arn   (SSM, us-east-1): the version ARN

The media stack (any region, region-agnostic at synth) reads the parameter with a custom resource
(cdk/constructs/replay_cdn.py, ``EdgeVersionReader``) and associates the version with the replay
distribution's ``t/*`` behaviours. This is what ``cloudfront.experimental.EdgeFunction`` and
``crossRegionReferences`` do, without their condition that every stack of the stage has an explicit
region at synth (docs/replays.md, "The replay edge function on AWS").

Lambda@Edge's limits, held here and by tests/infra/test_infra_replay_edge.py: no environment
variables (the keys are in the code), no layers, x86_64, no X-Ray, viewer-request at most 128 MB
and 5 s, a package of at most 1 MB. The role trusts lambda.amazonaws.com and
edgelambda.amazonaws.com and may only write its logs; Lambda@Edge writes them in the region where
the function ran, to ``/aws/lambda/us-east-1.<function name>``.

Old versions are retained: a version CloudFront still has replicas of cannot be deleted (the
replicas go hours after the distribution moves to the next version), so CloudFormation would fail
the update's cleanup. Old versions are deleted by hand once unassociated (docs/replays.md).
"""
from __future__ import annotations

import atexit
import hashlib
import shutil
import tempfile
from pathlib import Path

from aws_cdk import ArnFormat, Aws, CfnOutput, Duration, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_ssm as ssm
from constructs import Construct

from cdk import nag
from cdk.config import StageConfig
from cdk.constructs.replay_edge_bundle import write_edge_bundle

EDGE_REGION = "us-east-1"
# Lambda@Edge runs Node.js 22 at most (CloudFront developer guide, "Restrictions on Lambda@Edge").
RUNTIME = lambda_.Runtime.NODEJS_22_X
MEMORY_MB = 128                 # viewer-request maximum
TIMEOUT_SECONDS = 5             # viewer-request maximum
MAX_PACKAGE_BYTES = 1024 * 1024  # viewer-request package limit (1 MB)


def version_parameter_name(config: StageConfig) -> str:
    return f"/{config.prefix}/replay-edge/version-arn"


def function_name(config: StageConfig) -> str:
    return f"{config.prefix}-replay-edge"


def _bundle(config: StageConfig) -> tuple[Path, str]:
    """The function's package in a fresh folder (removed at exit) and a digest of everything that
    makes CloudFormation publish a new version (code and configuration): the media stack's reader
    reads the parameter again when it changes."""
    folder = Path(tempfile.mkdtemp(prefix=f"replay-edge-{config.name}-"))
    atexit.register(shutil.rmtree, folder, True)
    bundle = write_edge_bundle(folder / "bundle", config.replay_public_keys)
    size = sum(p.stat().st_size for p in bundle.rglob("*") if p.is_file())
    if size > MAX_PACKAGE_BYTES:
        raise ValueError(f"the replay edge package is {size} bytes; a viewer-request function is limited to 1 MB")
    digest = hashlib.sha256()
    for path in sorted(p for p in bundle.rglob("*") if p.is_file()):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    digest.update(f"{RUNTIME.name}/{MEMORY_MB}/{TIMEOUT_SECONDS}".encode())
    return bundle, digest.hexdigest()[:16]


class ReplayEdgeStack(Stack):
    def __init__(self, scope: Construct, id: str, *, config: StageConfig, **kwargs) -> None:
        super().__init__(scope, id, **kwargs)
        if self.region != EDGE_REGION:
            raise ValueError(f"{id}: Lambda@Edge functions live in {EDGE_REGION} (env region {self.region!r})")
        self.config = config
        name = function_name(config)
        bundle, self.bundle_digest = _bundle(config)
        self.package_bytes = sum(p.stat().st_size for p in bundle.rglob("*") if p.is_file())

        self.role = iam.Role(
            self, "Role",
            assumed_by=iam.CompositePrincipal(iam.ServicePrincipal("lambda.amazonaws.com"),
                                              iam.ServicePrincipal("edgelambda.amazonaws.com")),
            description=f"Lambda@Edge {name}: writes its logs, nothing else")
        # Lambda@Edge logs where the request was served: /aws/lambda/us-east-1.<name> in that region.
        log_group = self.format_arn(service="logs", region="*", resource="log-group",
                                    resource_name=f"/aws/lambda/{EDGE_REGION}.{name}",
                                    arn_format=ArnFormat.COLON_RESOURCE_NAME)
        self.role.add_to_policy(iam.PolicyStatement(
            actions=["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
            resources=[log_group, f"{log_group}:*"]))
        nag.acknowledge(
            self.role,
            f"AwsSolutions-IAM5[Resource::{nag.flatten(self, log_group)}:*]",
            "Lambda@Edge writes a replica's logs in the region of the edge location that ran it (any region "
            "CloudFront serves from), into /aws/lambda/us-east-1.<function name>: the grant is that one log "
            "group name in every region, and its streams.")
        nag.acknowledge(
            self.role,
            f"AwsSolutions-IAM5[Resource::{nag.flatten(self, log_group)}]",
            "Lambda@Edge creates the log group on first use in each region an edge location runs the function "
            "in; the region is the only wildcard, the log group name is fixed.")

        self.function = lambda_.Function(
            self, "Function",
            function_name=name,
            description=f"{config.prefix}: replay distribution viewer-request: checks /t/<token>/ and strips it",
            runtime=RUNTIME,
            architecture=lambda_.Architecture.X86_64,     # Lambda@Edge runs x86_64 only
            handler="index.handler",
            code=lambda_.Code.from_asset(str(bundle)),
            memory_size=MEMORY_MB,
            timeout=Duration.seconds(TIMEOUT_SECONDS),
            role=self.role,
            current_version_options=lambda_.VersionOptions(
                removal_policy=RemovalPolicy.RETAIN,
                description="replay edge: bundle " + self.bundle_digest),
        )
        self.function.apply_removal_policy(RemovalPolicy.RETAIN)
        nag.acknowledge(
            self.function, "AwsSolutions-L1",
            f"Lambda@Edge supports Node.js up to 22 ({RUNTIME.name}); a newer Lambda runtime cannot be "
            "associated with a CloudFront distribution.")
        self.version = self.function.current_version

        self.parameter = ssm.StringParameter(
            self, "VersionArn",
            parameter_name=version_parameter_name(config),
            string_value=self.version.function_arn,
            description=f"{config.prefix}: the replay edge function's published version (read by the media stack)")
        CfnOutput(self, "ReplayEdgeVersionArn", value=self.version.function_arn)
        CfnOutput(self, "ReplayEdgeBundleDigest", value=self.bundle_digest)

    def version_parameter_arn(self, scope: Construct) -> str:
        """The parameter's ARN as another stack (any region, same account and partition) names it."""
        return Stack.of(scope).format_arn(service="ssm", region=EDGE_REGION, account=Aws.ACCOUNT_ID,
                                          resource="parameter",
                                          resource_name=version_parameter_name(self.config).lstrip("/"))

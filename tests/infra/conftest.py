"""Synthesize every stage once per test session (in-process, like `cdk synth`,
with the cdk-nag plugin on) and hand the tests its templates."""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

# Before aws_cdk starts the jsii runtime: keep Node's version banners quiet, and
# make the stacks environment-agnostic whatever the shell has.
os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
for _var in ("CDK_DEFAULT_ACCOUNT", "CDK_DEFAULT_REGION"):
    os.environ.pop(_var, None)

from aws_cdk import assertions  # noqa: E402

from cdk.config import STAGES, StageConfig  # noqa: E402
from cdk.stage import StageStacks, create_app  # noqa: E402


@dataclass
class Synth:
    app: Any
    stages: dict[str, StageStacks]
    assembly: Any
    outdir: Path

    def template(self, stage: str, part: str) -> assertions.Template:
        """part: a stack of the stage (Data, Media, Api, Realtime), or RestApi: the Api
        stack's nested stack with the REST API (methods, resources, authorizer, stage)."""
        stacks = self.stages[stage]
        if part == "RestApi":
            return assertions.Template.from_stack(stacks.api.rest_api.nested_stack)
        return assertions.Template.from_stack(getattr(stacks, part.lower()))

    def json(self, stage: str, part: str) -> dict:
        return self.template(stage, part).to_json()

    def config(self, stage: str) -> StageConfig:
        return STAGES[stage]


@pytest.fixture(scope="session")
def synth(tmp_path_factory) -> Synth:
    outdir = tmp_path_factory.mktemp("cdk.out")
    app, built = create_app(None, outdir=str(outdir), use_stage_context=False)
    # Raises if any cdk-nag finding is unacknowledged (see test_infra_nag.py).
    assembly = app.synth()
    return Synth(app=app, stages={s.config.name: s for s in built}, assembly=assembly, outdir=outdir)


@pytest.fixture(params=sorted(STAGES))
def stage(request) -> str:
    return request.param

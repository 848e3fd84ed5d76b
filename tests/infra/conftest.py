"""Synthesize every stage once per test session (in-process, like `cdk synth`,
with the cdk-nag plugin on) and hand the tests its templates."""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
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
from infra_helpers import inline_nested  # noqa: E402


@dataclass
class Synth:
    app: Any
    stages: dict[str, StageStacks]
    assembly: Any
    outdir: Path
    _inlined: dict = field(default_factory=dict)
    # Each template crosses from the jsii runtime (node) once per process: the Template objects
    # (read-only) are kept, and the JSON as text, so each test gets its own dict to change.
    _templates: dict = field(default_factory=dict)
    _texts: dict = field(default_factory=dict)

    def template(self, stage: str, part: str) -> assertions.Template:
        """part: a stack of the stage (Data, Media, Api, Realtime), or RestApi: the Api
        stack's nested stack with the REST API (authorizers, stage, permissions) with its route
        stacks (methods, resources) inlined (infra_helpers.inline_nested)."""
        key = (stage, part)
        if key not in self._templates:
            if part == "RestApi":
                self._templates[key] = assertions.Template.from_json(self.json(stage, part))
            else:
                self._templates[key] = assertions.Template.from_stack(getattr(self.stages[stage], part.lower()))
        return self._templates[key]

    def json(self, stage: str, part: str) -> dict:
        key = (stage, part)
        if key not in self._texts:
            if part == "RestApi":
                rest_api = self.stages[stage].api.rest_api
                base = assertions.Template.from_stack(rest_api.nested_stack).to_json()
                children = {rest_api.nested_stack.resolve(stack.nested_stack_resource.logical_id):
                            assertions.Template.from_stack(stack).to_json()
                            for stack in rest_api.route_stacks.values()}
                self._inlined[key] = inline_nested(base, children)
                self._texts[key] = json.dumps(self._inlined[key])
            else:
                self._texts[key] = json.dumps(self.template(stage, part).to_json())
        return json.loads(self._texts[key])

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

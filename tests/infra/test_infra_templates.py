"""What cdk synth writes: stacks per stage, cfn-lint-clean templates, and Lambda
assets built for the Lambda platform (no Docker)."""
from __future__ import annotations

import importlib.util
import sys
import time
from pathlib import Path

import pytest

from cdk.config import STAGES, stages_for
from cdk.constructs.lambda_function import RUNTIME, runtime_python_version
from infra_helpers import nested_templates, resources

pytestmark = pytest.mark.infra

ROOT = Path(__file__).resolve().parents[2]
# The logical id prefix CDK gives AwsCustomResource's singleton provider function (its fixed uuid).
AWS_CUSTOM_RESOURCE_PROVIDER = "AWS679f53fac002430cb0da5b7982bd2287"


def _script(name: str):
    spec = importlib.util.spec_from_file_location(f"livecommerce_script_{name}", ROOT / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_stacks_of_every_stage(synth):
    names = {stack.stack_name for stack in synth.assembly.stacks}
    assert names == {f"LiveCommerce-{s}-{part}" for s in STAGES
                     for part in ("Data", "Media", "Api", "Realtime", "Workflows", "Analytics", "ReplayEdge", "Web",
                                  "Observability")}
    assert [c.name for c in stages_for(None)] == list(STAGES)
    assert [c.name for c in stages_for("prod")] == ["prod"]
    with pytest.raises(SystemExit):
        stages_for("staging")


def test_stacks_are_environment_agnostic(synth):
    for stack in synth.assembly.stacks:
        assert stack.environment.account == "unknown-account"
        # Lambda@Edge functions live in us-east-1 only (cdk/stacks/replay_edge_stack.py)
        expected = "us-east-1" if stack.stack_name.endswith("-ReplayEdge") else "unknown-region"
        assert stack.environment.region == expected, stack.stack_name


def test_cfn_lint_finds_no_errors(synth):
    lint_templates = _script("lint_templates")
    templates = lint_templates.templates_in(synth.outdir)
    per_stage = len(synth.stages["dev"].all)
    assert len(templates) == per_stage * len(STAGES)
    # Nested stacks' templates (the REST API's, and its route stacks) are assets of their parents,
    # not manifest stacks.
    templates += nested_templates(synth)
    nested_per_stage = 1 + len(synth.stages["dev"].api.rest_api.route_stacks)
    assert nested_per_stage > 2
    assert len(templates) == (per_stage + nested_per_stage) * len(STAGES)
    findings = lint_templates.lint(templates)
    errors = [str(f) for f in findings if f.severity == "error"]
    assert errors == []


def _asset_dir(synth, resource: dict) -> Path:
    properties = resource["Properties"]
    s3_key = (properties.get("Code") or properties.get("Content"))["S3Key"]
    return synth.outdir / f"asset.{s3_key.removesuffix('.zip')}"


def test_layer_is_built_for_lambda_arm64(synth):
    template = synth.json("dev", "Api")
    (layer,) = resources(template, "AWS::Lambda::LayerVersion").values()
    site = _asset_dir(synth, layer) / "python"
    assert (site / "livecommerce" / "__init__.py").is_file()
    version = runtime_python_version(RUNTIME).replace(".", "")
    native = list((site / "pydantic_core").glob("*.so"))
    assert native and all(f"cpython-{version}-aarch64-linux-gnu" in p.name for p in native), native
    assert not list(site.rglob("__pycache__"))


def test_layer_build_is_cached():
    build_layer = _script("build_layer").build_layer
    version = runtime_python_version(RUNTIME)
    first = build_layer(version)          # builds only if the sources changed since the synth
    started = time.monotonic()
    again = build_layer(version)
    assert again.built is False
    assert again.asset_hash == first.asset_hash
    assert time.monotonic() - started < 5


def test_function_code_is_its_folder_without_caches(synth):
    for part in ("Api", "Media"):
        template = synth.json("dev", part)
        for logical_id, function in resources(template, "AWS::Lambda::Function").items():
            if logical_id.startswith(AWS_CUSTOM_RESOURCE_PROVIDER):
                continue    # CDK's own AwsCustomResource handler (Media: the replay edge version reader)
            code = _asset_dir(synth, function)
            assert (code / "handler.py").is_file()
            assert not list(code.rglob("__pycache__"))


def test_media_stack_layer_is_the_same_build(synth):
    """The playback key setup function uses the shared layer (cryptography): the same
    asset as the API's layer, built once."""
    (api_layer,) = resources(synth.json("dev", "Api"), "AWS::Lambda::LayerVersion").values()
    (media_layer,) = resources(synth.json("dev", "Media"), "AWS::Lambda::LayerVersion").values()
    assert _asset_dir(synth, api_layer) == _asset_dir(synth, media_layer)

"""The stage is never assumed: every synthesized function is told its stage, which is a
deployed one (never "local", where the dev login lives), and a stage named "local"
cannot be built at all."""
from __future__ import annotations

import dataclasses
import json

import pytest

from cdk.config import STAGES, stages_for
from livecommerce.shared.settings import DEPLOYED_STAGES
from tests.infra.infra_helpers import props, resources, stack_templates


def _functions_by_stage(synth) -> dict[str, dict[str, dict]]:
    """stage -> {stack/logical id: function} over every template, nested stacks included."""
    found: dict[str, dict[str, dict]] = {name: {} for name in STAGES}
    for stack, path in stack_templates(synth).items():
        (stage,) = [name for name in STAGES if f"LiveCommerce-{name}-" in stack]
        for logical_id, function in resources(json.loads(path.read_text()), "AWS::Lambda::Function").items():
            found[stage][f"{stack}/{logical_id}"] = function
    return found


def test_every_function_is_told_its_deployed_stage(synth):
    by_stage = _functions_by_stage(synth)
    for stage, functions in by_stage.items():
        assert functions, f"no functions synthesized for {stage}"
        for where, function in functions.items():
            if where.startswith(f"LiveCommerce-{stage}-ReplayEdge/"):
                # Lambda@Edge: no environment variables at all (test_infra_replay_edge.py)
                assert "Environment" not in props(function), where
                continue
            stage_var = props(function).get("Environment", {}).get("Variables", {}).get("STAGE")
            assert stage_var == stage, f"{where}: STAGE={stage_var!r}, expected {stage!r}"
            assert stage_var in DEPLOYED_STAGES and stage_var != "local"


def test_only_deployed_stages_can_be_built():
    assert sorted(STAGES) == sorted(DEPLOYED_STAGES)
    dev = STAGES["dev"]
    for name in ("local", "staging", ""):
        with pytest.raises(ValueError, match="stage"):
            dataclasses.replace(dev, name=name)
    with pytest.raises(SystemExit, match="unknown stage 'local'"):
        stages_for("local")

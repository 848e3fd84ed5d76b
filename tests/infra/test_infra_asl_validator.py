"""Every statemachines/*.asl.json passes asl-validator (npm, pinned in package.json, installed by
`make setup`): the file as written (with its ${Substitutions}) and as deployed (filled in with the
values CDK and the local stack use). A deliberately broken copy must fail, so a validator that
accepts anything fails this test."""
from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from local import stepfunctions

ROOT = Path(__file__).resolve().parents[2]
VALIDATOR = ROOT / "node_modules" / ".bin" / "asl-validator"
FILES = sorted((ROOT / "statemachines").glob("*.asl.json"))


def validate(*paths: Path) -> subprocess.CompletedProcess:
    assert VALIDATOR.is_file(), "asl-validator is missing: run `make setup` (npm install)"
    args = [str(VALIDATOR)]
    for path in paths:
        args += ["--json-path", str(path)]
    return subprocess.run(args, capture_output=True, text=True, timeout=60)


def test_every_state_machine_file_is_valid_as_written_and_as_deployed(tmp_path):
    assert FILES, "no statemachines/*.asl.json"
    assert {path.name.removesuffix(".asl.json") for path in FILES} == set(stepfunctions.machine_specs()), \
        "every ASL file is declared as a state machine (StateMachineSpec) and every declaration has a file"
    values = stepfunctions.substitutions(region="ap-northeast-1", account="123456789012", prefix="livecommerce-dev")
    filled = []
    for path in FILES:
        target = tmp_path / path.name
        target.write_text(stepfunctions.definition(path.name.removesuffix(".asl.json"), values))
        filled.append(target)
    result = validate(*FILES, *filled)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("breakage", ["dangling_next", "unknown_type"])
def test_a_broken_copy_fails(tmp_path, breakage):
    document = json.loads(FILES[0].read_text())
    first = document["StartAt"]
    if breakage == "dangling_next":
        document["StartAt"] = "NoSuchState"
    else:
        document["States"][first]["Type"] = "Teleport"
    broken = tmp_path / "broken.asl.json"
    broken.write_text(json.dumps(document))
    result = validate(broken)
    assert result.returncode != 0
    assert "invalid" in result.stdout + result.stderr

"""statemachines/README.md lists every state machine file with the StateMachineSpec that declares it."""
from __future__ import annotations

import re
from pathlib import Path

from livecommerce.manifest import CONTEXTS

ROOT = Path(__file__).resolve().parents[3]


def test_the_readme_lists_each_machine_with_its_declaring_spec():
    readme = (ROOT / "statemachines" / "README.md").read_text()
    rows = dict(re.findall(r"^\| `([a-z_]+)\.asl\.json` \|.*\| `livecommerce\.([a-z_]+\.spec\.[A-Z_]+)` \|", readme, re.M))
    declared = {}
    for context in CONTEXTS:
        if not context.state_machines:
            continue
        module = __import__(f"livecommerce.{context.name}.spec", fromlist=["SPEC"])
        for name, value in vars(module).items():
            if value in context.state_machines and name.isupper() and name != "SPEC":
                declared[value.asl] = f"{context.name}.spec.{name}"
    files = {p.name.removesuffix(".asl.json") for p in (ROOT / "statemachines").glob("*.asl.json")}
    assert set(declared) == files
    assert rows == declared

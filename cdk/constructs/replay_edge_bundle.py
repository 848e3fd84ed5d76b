"""The replay edge function's code package (no aws_cdk import: the unit tests build it too).

Lambda@Edge functions have no environment variables, so the playback public key(s) that verify
replay tokens are written into the package at synth: ``keys.mjs`` beside ``index.mjs`` and
``verify.mjs`` (cdk/assets/replay_edge). Several keys may be bundled (a key rotation: the old and
the new); none refuses every request (fail closed)."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

SOURCE = Path(__file__).resolve().parents[1] / "assets" / "replay_edge"
SOURCES = ("index.mjs", "verify.mjs")


def write_edge_bundle(target: Path, public_key_pems: list[str] | tuple[str, ...]) -> Path:
    """Copy the edge function into `target` with ``keys.mjs`` holding the PEMs; returns `target`."""
    for pem in public_key_pems:
        if "-----BEGIN PUBLIC KEY-----" not in pem or "PRIVATE" in pem:
            raise ValueError("replay edge keys are public keys in PEM (SubjectPublicKeyInfo)")
    target = Path(target)
    target.mkdir(parents=True, exist_ok=True)
    for name in SOURCES:
        shutil.copyfile(SOURCE / name, target / name)
    keys = json.dumps([pem.strip() + "\n" for pem in public_key_pems], indent=1)
    (target / "keys.mjs").write_text(
        "// Written at synth by cdk/constructs/replay_edge_bundle.py: the playback public key(s).\n"
        f"export const PUBLIC_KEYS = {keys};\n")
    return target

#!/usr/bin/env python3
"""CDK entry point (cdk.json runs `.venv/bin/python app.py`).

    npx cdk synth -c stage=dev     # one stage: LiveCommerce-dev-{Data,Media,Api,Realtime}
    npx cdk synth                  # every stage in cdk/config.py (dev and prod)

Offline and without Docker: no AWS account is needed (stacks are
environment-agnostic unless the CLI knows CDK_DEFAULT_ACCOUNT/REGION), and the
Lambda layer is built locally by scripts/build_layer.py. cdk-nag's
AwsSolutionsChecks validate every synth; an unacknowledged finding fails it.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
for extra in (ROOT / "layers" / "shared" / "python", ROOT):
    if str(extra) not in sys.path:
        sys.path.insert(0, str(extra))
# The jsii runtime runs on the machine's Node; keep its version banner out of synth output.
os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

from cdk.stage import create_app  # noqa: E402


def main() -> None:
    app, _stages = create_app()
    app.synth()


if __name__ == "__main__":
    main()

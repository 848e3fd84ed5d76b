"""Runs the viewer page's JavaScript unit tests (tests/unit/web/*.test.mjs: the poll-mode feed
follower of web/src/watch/feed.js) under Node's built-in test runner, so `make test` runs them
with nothing to install (Node is already the project's, for the CDK CLI and the web build)."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

HERE = Path(__file__).parent


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed (make setup installs it)")
def test_feed_follower_js():
    files = sorted(str(p) for p in HERE.glob("*.test.mjs"))
    assert files
    run = subprocess.run(["node", "--test", *files], capture_output=True, text=True, timeout=120, cwd=HERE.parents[2])
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    assert "# fail 0" in run.stdout and "# pass 0" not in run.stdout, run.stdout[-2000:]

"""The manifest: every context's spec is read, nothing is declared twice, and reading it is cheap."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from livecommerce import manifest

ROOT = Path(__file__).resolve().parents[3]


def test_every_context_folder_has_a_spec_in_the_manifest():
    package = ROOT / "layers" / "shared" / "python" / "livecommerce"
    folders = {p.parent.name for p in package.glob("*/__init__.py")} - {"shared"}
    assert folders == {c.name for c in manifest.CONTEXTS} - {"platform"}
    for context in manifest.CONTEXTS:
        for route in context.routes:
            assert route.function in {f.name for f in context.functions} | {"docs"}, (context.name, route.key)


def test_functions_tables_and_events_have_one_owner():
    assert len(manifest.BY_NAME) == len(manifest.FUNCTION_SPECS)
    assert len(manifest.TABLES_BY_ID) == len(manifest.ALL_TABLES)
    for spec in manifest.FUNCTION_SPECS:
        assert all(not isinstance(t, str) for t in (*spec.tables_read, *spec.tables_write)), spec.name
    assert manifest.PRODUCERS["RoomStarted"] == "rooms"
    # engagement: buyers' lotteries (subscription LotteryBuyers)
    assert manifest.consumers_of("OrderPaid") == ("analytics", "engagement", "marketing", "media")


def test_reading_the_manifest_loads_no_aws_or_runtime_library():
    """CDK, the local stack and the OpenAPI writer read every spec: `livecommerce.<ctx>.spec`
    runs the context's `__init__` (its public face) first, so a face imports its pydantic
    types and nothing that talks to AWS."""
    code = ("import sys; from livecommerce import manifest; "
            "heavy = sorted(m for m in ('pynamodb', 'boto3', 'botocore', 'aws_lambda_powertools', "
            "'jwt', 'cryptography', 'requests', 'alipay', 'wechatpayv3') if m in sys.modules); assert not heavy, heavy")
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": f"{ROOT / 'layers' / 'shared' / 'python'}:{ROOT}"}
    subprocess.run([sys.executable, "-c", code], check=True, env=env)

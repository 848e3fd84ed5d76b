"""Cold start (docs/cold-start.md): entry modules import their own context, not the manifest, and load
at init what their first request would pay; SnapStart's uniqueness rule for `random`."""
from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
HTTP_FUNCTIONS = ("analytics", "catalog", "costream", "engagement", "identity", "interaction", "marketing",
                  "notifications", "orders", "payments", "replays", "rooms")


def test_each_function_owning_context_declares_all_its_routes():
    """An entry module passes its own context's routes (ContextSpec.routes_for): none may be missed."""
    from livecommerce import manifest

    for function in HTTP_FUNCTIONS:
        owner = manifest.BY_CONTEXT[manifest.CONTEXT_OF_FUNCTION[function]]
        assert owner.routes_for(function) == manifest.routes_for(function) != (), function
    assert set(HTTP_FUNCTIONS) == {r.function for r in manifest.ROUTES if r.integration is None} - {"docs"}


PROBE = r"""
import importlib.util, json, sys
from pathlib import Path
out = {}
for name in sys.argv[1].split(","):
    spec = importlib.util.spec_from_file_location(f"handler_{name}", Path("functions") / name / "handler.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    from livecommerce.shared import warmup
    routes = module.api.app._static_routes + module.api.app._dynamic_routes
    out[name] = {"manifest": "livecommerce.manifest" in sys.modules,
                 "contexts": sorted({m.split(".")[1] for m in sys.modules if m.startswith("livecommerce.")
                                     and m.count(".") >= 1} - {"shared"}),
                 "modules": list(warmup.last.modules), "missing": [m for m in warmup.last.modules if m not in sys.modules],
                 "routes": warmup.last.routes, "declared": len(module.api.routes),
                 "built": sum(r._dependant is not None for r in routes), "hooks": warmup.last.hooks,
                 "boto3": "boto3" in sys.modules}
print(json.dumps(out))
"""


def _import_handlers(names: tuple[str, ...], **env: str) -> dict:
    environment = {**os.environ, "PYTHONPATH": f"{ROOT / 'layers' / 'shared' / 'python'}:{ROOT}", **env}
    out = subprocess.run([sys.executable, "-c", PROBE, ",".join(names)], cwd=ROOT, env=environment,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_entry_modules_load_their_routes_work_at_init_without_the_manifest():
    """One fresh interpreter imports every HTTP entry module in turn: none brings in the manifest (every
    context's models); each loaded its services, built every route's parameters and body model and
    registered the after-restore hook (snapshot_restore_py is installed for the tests, as in Lambda)."""
    found = _import_handlers(HTTP_FUNCTIONS)
    for name in HTTP_FUNCTIONS:
        figures = found[name]
        assert not figures["manifest"], name
        assert figures["modules"] and not figures["missing"], (name, figures)
        # every route of the resolver (a router may carry a route of a sibling function) is built
        assert figures["routes"] == figures["built"] >= figures["declared"] > 0, (name, figures)
        assert figures["hooks"] == ["reseed_random"], (name, figures)
        assert not figures["boto3"], name      # botocore clients, without boto3's resources and s3transfer


def test_load_at_init_off_loads_nothing_and_the_entry_module_imports_its_own_context_only():
    found = _import_handlers(("catalog",), LOAD_AT_INIT="0")["catalog"]
    assert found["modules"] == [] and found["routes"] == 0 and found["built"] == 0 and found["hooks"] == []
    assert found["contexts"] == ["catalog"] and not found["manifest"]


def test_after_a_restore_each_environment_draws_its_own_random_numbers():
    """SnapStart resumes many environments from one snapshot: the `random` state captured at init is the
    same in each, so without a fresh seed they draw the same numbers (shard probes, jitter)."""
    from livecommerce.shared import warmup

    random.seed(1234)
    snapshot = random.getstate()
    draws = []
    for _ in range(2):            # two environments restored from the same snapshot
        random.setstate(snapshot)
        draws.append([random.random() for _ in range(4)])
    assert draws[0] == draws[1]   # what happens without the hook
    reseeded = []
    for _ in range(2):
        random.setstate(snapshot)
        warmup.reseed_random()
        reseeded.append([random.random() for _ in range(4)])
    assert reseeded[0] != reseeded[1]


def test_every_botocore_session_shares_one_data_loader_and_clients_are_made_once():
    """aws.botocore_session(): PynamoDB's per-thread sessions and the clients' session parse botocore's
    data files once a process; aws.client caches per service and per extra arguments."""
    from livecommerce.shared import aws

    aws.reset_clients()
    try:
        first, second = aws.botocore_session(), aws.botocore_session()
        assert first is not second
        assert first.get_component("data_loader") is second.get_component("data_loader")
        events = aws.client("events")
        assert aws.client("events") is events
        other = aws.client("events", endpoint_url="https://events.example.com")
        assert other is not events and other.meta.endpoint_url == "https://events.example.com"
        assert aws.client("events", endpoint_url="https://events.example.com") is other
        calls = []
        aws.on_reset(lambda: calls.append(1))
        aws.reset_clients()
        assert calls == [1] and aws.client("events") is not events
    finally:
        aws.reset_clients()

"""Cold-start cost of every Lambda entry module.

For each functions/<name>/handler.py, starts a fresh Python process, imports
the module and reports the import time and the process's peak memory; does
the same for `import boto3` as the baseline, in the same run. Each figure is
the median of several fresh processes. Goal: every entry module at most 1.5x
the boto3 baseline.

This is the import of the code alone: LOAD_AT_INIT=0, so the API entry modules do not load their
routes' services and clients at init (livecommerce.shared.warmup). With it on, as deployed, init
plus the first request is measured whole by benchmarks/cold_start_whole.py (docs/cold-start.md).

    .venv/bin/python benchmarks/cold_start.py [--runs 7]
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FUNCTIONS = sorted(p.parent.name for p in (ROOT / "functions").glob("*/handler.py"))
GOAL = 1.5

PROBE = r"""
import json, resource, sys, time, importlib.util
target = sys.argv[1]
start = time.perf_counter()
if target == "boto3":
    import boto3
else:
    spec = importlib.util.spec_from_file_location("handler", target)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
elapsed = time.perf_counter() - start
print(json.dumps({"ms": elapsed * 1000, "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def measure(target: str, runs: int) -> dict[str, float]:
    env = dict(os.environ)
    env.update({
        "PYTHONPATH": f"{ROOT / 'layers' / 'shared' / 'python'}:{ROOT}",
        "PYTHONDONTWRITEBYTECODE": "",  # Lambda layers ship compiled bytecode; measure warm caches
        "AWS_REGION": "ap-northeast-1", "AWS_DEFAULT_REGION": "ap-northeast-1",
        "POWERTOOLS_SERVICE_NAME": "bench", "STAGE": "dev",
        "LOAD_AT_INIT": "0",   # the code's own import; loading at init is cold_start_whole.py's to measure
    })
    samples = []
    for _ in range(runs + 1):
        out = subprocess.run([sys.executable, "-c", PROBE, target], capture_output=True, text=True,
                             env=env, check=True)
        samples.append(json.loads(out.stdout))
    samples = samples[1:]  # the first run only warms the bytecode cache
    return {"ms": statistics.median(s["ms"] for s in samples),
            "peak_mb": statistics.median(s["peak_mb"] for s in samples)}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    baseline = measure("boto3", args.runs)
    print(f"cold start: median of {args.runs} fresh processes, Python {sys.version.split()[0]}")
    print(f"{'module':<28}{'import ms':>10}{'peak MB':>10}{'x boto3':>9}  goal <= {GOAL}x")
    print(f"{'import boto3 (baseline)':<28}{baseline['ms']:>10.1f}{baseline['peak_mb']:>10.1f}{1.0:>9.2f}")
    worst = 0.0
    for name in FUNCTIONS:
        figures = measure(str(ROOT / "functions" / name / "handler.py"), args.runs)
        ratio = figures["ms"] / baseline["ms"]
        worst = max(worst, ratio)
        flag = "ok" if ratio <= GOAL else "OVER"
        print(f"{'functions/' + name:<28}{figures['ms']:>10.1f}{figures['peak_mb']:>10.1f}{ratio:>9.2f}  {flag}")
    print(f"worst ratio {worst:.2f} (goal {GOAL})")
    return 0


if __name__ == "__main__":
    sys.exit(main())

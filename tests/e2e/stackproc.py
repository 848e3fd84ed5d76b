"""Runs `python -m local.stack` in a subprocess, as a newcomer would, and talks to it over HTTP."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def request(method: str, url: str, body=None, token: str | None = None, headers: dict[str, str] | None = None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method)
    req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    for name, value in (headers or {}).items():   # e.g. Idempotency-Key, X-Playback-Token
        req.add_header(name, value)
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, dict(resp.headers), json.loads(resp.read() or b"null")
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), json.loads(err.read() or b"null")


def start_stack(*extra_args: str, own_group: bool = False):
    """extra_args: more `local.stack` options (--state-dir DIR, --fresh). own_group: the stack and
    its children in a process group of their own (a test can then kill -9 all of it)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env["PYTHONPATH"] = f"{ROOT / 'layers' / 'shared' / 'python'}:{ROOT}"
    env["STAGE"] = "local"   # what `make local` runs: the local stage, said explicitly
    proc = subprocess.Popen([sys.executable, "-m", "local.stack", "--port", "0", "--aws-port", "0",
                             "--rtmp-port", "0", "--mqtt-port", "0", *extra_args],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=own_group)
    lines = []
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            if proc.poll() is not None:
                break
            continue
        lines.append(line)
        if line.startswith("READY "):
            _keep_draining(proc)
            return proc, line.split()[1], lines
    proc.kill()
    raise AssertionError("local stack did not start:\n" + "".join(lines))


def _keep_draining(proc) -> None:
    """Read the stack's output from READY on: a pipe nobody reads fills up (64 KB of log lines,
    e.g. a fuzz run's WARNINGs) and then blocks whichever process writes the next line, a
    function's request with it. stop_stack returns what was read."""
    import threading

    proc.output = []

    def drain() -> None:
        for line in proc.stdout:
            proc.output.append(line)
            del proc.output[:-2000]

    proc.drainer = threading.Thread(target=drain, daemon=True)
    proc.drainer.start()


def stop_stack(proc) -> str:
    proc.send_signal(signal.SIGINT)
    proc.wait(timeout=60)
    drainer = getattr(proc, "drainer", None)
    if drainer is None:
        out, _ = proc.communicate(timeout=30)
        return out
    drainer.join(timeout=30)
    return "".join(proc.output)


def url_of(lines: list[str], name: str) -> str:
    return next(line.split()[1] for line in lines if line.strip().startswith(name + " "))

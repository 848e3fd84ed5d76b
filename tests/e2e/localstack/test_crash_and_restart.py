"""`make local` keeps its state in a folder: a `kill -9` of the whole stack loses nothing it
acknowledged, old tokens still work after the restart, and --fresh (`make local FRESH=1`)
starts clean."""
from __future__ import annotations

import os
import signal
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

import pytest

from stackproc import request, start_stack, stop_stack

pytestmark = pytest.mark.e2e
ADDRESS = {"name": "张三", "phone": "13800138000", "province": "浙江", "city": "杭州", "detail": "1 号"}


def _started(state_dir, *more: str):
    return start_stack("--state-dir", str(state_dir), *more, own_group=True)


def _kill_all(proc) -> None:
    os.killpg(proc.pid, signal.SIGKILL)   # the stack, the embedded AWS, the workers: no goodbye
    proc.wait(timeout=30)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:   # the whole group is gone (no child left holding the folder)
        try:
            os.killpg(proc.pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)
    raise AssertionError("the stack's process group outlived kill -9")


def _login(url: str, user: str) -> str:
    status, _, body = request("POST", f"{url}/v1/auth/login", {"provider": "dev", "code": user})
    assert status == 200, body
    return body["token"]


def _shop(url: str) -> tuple[str, str]:
    host, operator = _login(url, "host-1"), _login(url, "operator-1")
    start = (datetime.now(timezone.utc) + timedelta(hours=1)).isoformat()
    status, _, room = request("POST", f"{url}/v1/rooms", {"title": "断电测试", "scheduled_start": start}, token=host)
    assert status == 201, room
    status, _, product = request("POST", f"{url}/v1/products", {"name": "断电测试商品", "list_price": 1000,
                                                                "stock": 1000}, token=operator)
    assert status == 201, product
    status, _, presets = request("PUT", f"{url}/v1/rooms/{room['id']}/products", {"items": [
        {"product_id": product["id"], "live_price": 900, "live_stock": 500}]}, token=host)
    assert status == 200, presets
    status, _, listing = request("POST", f"{url}/v1/rooms/{room['id']}/products/listing", token=host)
    assert status == 200, listing
    return room["id"], product["id"]


def _order(url: str, token: str, room_id: str, product_id: str):
    import json
    import urllib.error
    import urllib.request

    body = {"room_id": room_id, "items": [{"product_id": product_id, "quantity": 1}], "auto_coupon": False,
            "address": ADDRESS}
    req = urllib.request.Request(f"{url}/v1/orders", data=json.dumps(body).encode(), method="POST", headers={
        "Content-Type": "application/json", "Authorization": f"Bearer {token}",
        "Idempotency-Key": uuid.uuid4().hex})
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read() or b"null")
    except OSError:   # cut off by the kill: not acknowledged
        return 0, None


def test_every_acknowledged_order_and_token_survive_kill_9(tmp_path):
    state = tmp_path / "state"
    proc, url, _ = _started(state, "--fresh")
    try:
        room_id, product_id = _shop(url)
        viewers = {f"crash-viewer-{i}": _login(url, f"crash-viewer-{i}") for i in range(4)}
        acknowledged: dict[str, str] = {}   # order id -> owner
        for user, token in viewers.items():   # some orders, all answered
            status, order = _order(url, token, room_id, product_id)
            assert status == 201, order
            acknowledged[order["id"]] = user
        # ... and a burst still in flight when the whole stack is killed
        with ThreadPoolExecutor(max_workers=8) as pool:
            futures = [pool.submit(_order, url, viewers[user], room_id, product_id)
                       for user in list(viewers) * 4]
            deadline = time.monotonic() + 30
            while not any(f.done() for f in futures) and time.monotonic() < deadline:
                time.sleep(0.01)
            _kill_all(proc)
            for user, future in zip(list(viewers) * 4, futures):
                status, order = future.result()
                if status == 201:
                    acknowledged[order["id"]] = user
    finally:
        if proc.poll() is None:
            _kill_all(proc)
    assert len(acknowledged) >= len(viewers) + 1

    proc, url, lines = _started(state)
    try:
        assert any("replayed=" in line for line in lines), "".join(lines)
        for order_id, user in acknowledged.items():
            status, _, order = request("GET", f"{url}/v1/orders/{order_id}", token=viewers[user])  # the old token
            assert status == 200, (order_id, order)
            assert order["room_id"] == room_id
        for user, token in viewers.items():
            status, _, page = request("GET", f"{url}/v1/me/orders?limit=50", token=token)
            assert status == 200, page
            mine = {o["id"] for o in page["items"]}
            assert {oid for oid, owner in acknowledged.items() if owner == user} <= mine
        status, _, me = request("GET", f"{url}/v1/me", token=viewers["crash-viewer-0"])
        assert status == 200 and me["id"] == "crash-viewer-0"
        # the seed ran again on restart without doubling anything
        status, _, host = request("GET", f"{url}/v1/hosts/host-1")
        assert status == 200
    finally:
        stop_stack(proc)
    assert proc.returncode == 0

    proc, url, _ = _started(state, "--fresh")   # make local FRESH=1
    try:
        old_order, old_owner = next(iter(acknowledged.items()))
        assert request("GET", f"{url}/v1/me", token=viewers[old_owner])[0] == 401   # a new signing key
        token = _login(url, old_owner)
        status, _, page = request("GET", f"{url}/v1/me/orders", token=token)
        assert status == 200 and page["items"] == []
        assert request("GET", f"{url}/v1/orders/{old_order}", token=token)[0] == 404
        assert request("GET", f"{url}/v1/hosts/host-1")[0] == 200   # seeded again
    finally:
        stop_stack(proc)


def test_kill_9_of_the_stack_process_alone_leaves_no_child_holding_its_ports(tmp_path):
    """A user's `kill -9 <pid>` reaches only the stack's own process: its children (the embedded
    AWS, the function workers, the MQTT broker, nginx) must go too, or the next `make local`
    finds its ports taken."""
    proc, _, _ = _started(tmp_path / "state")
    try:
        proc.kill()   # SIGKILL to the stack's process only, not its group
        proc.wait(timeout=30)
        deadline = time.monotonic() + 30
        left: list[str] = []
        while time.monotonic() < deadline:
            left = _group_members(proc.pid)
            if not left:
                break
            time.sleep(0.1)
        assert not left, f"children outlived the stack: {left}"
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def _group_members(pgid: int) -> list[str]:
    members = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
            if int(fields[2]) != pgid or fields[0] == "Z":   # fields[2]: pgrp; zombies hold nothing
                continue
            with open(f"/proc/{entry}/cmdline", "rb") as cmd:
                members.append(cmd.read().replace(b"\0", b" ").decode(errors="replace")[:120])
        except (FileNotFoundError, ProcessLookupError, IndexError):
            continue
    return members

"""Starts `python -m local.stack` as a newcomer would and uses it over real HTTP."""
from __future__ import annotations

import pytest

from stackproc import request as _request, start_stack as _start_stack, stop_stack as _stop

pytestmark = pytest.mark.e2e


def test_banner_prints_urls(stack):
    url, lines, _ = stack
    text = "".join(lines)
    assert url.startswith("http://127.0.0.1:")
    for name in ("api", "docs", "aws", "wechat_standin", "alipay_standin"):
        assert f"  {name}" in text


def test_login_as_seeded_host_and_read_profile(stack):
    url, _, _ = stack
    status, headers, body = _request("POST", f"{url}/v1/auth/login", {"provider": "dev", "code": "host-1"})
    assert status == 200, body
    assert "host" in body["user"]["roles"]
    status, _, me = _request("GET", f"{url}/v1/me", token=body["token"])
    assert status == 200 and me["id"] == "host-1"
    status, _, host = _request("GET", f"{url}/v1/hosts/host-1")
    assert status == 200 and host["display_name"]


def test_wechat_login_through_the_stand_in(stack):
    url, lines, _ = stack
    wechat = next(line.split()[1] for line in lines if line.strip().startswith("wechat_standin"))
    status, _, minted = _request("POST", f"{wechat}/__standin/codes", {"openid": "o-e2e-viewer"})
    assert status == 200, minted
    status, _, body = _request("POST", f"{url}/v1/auth/login", {"provider": "wechat", "code": minted["code"]})
    assert status == 200, body
    assert body["user"]["roles"] == ["viewer"] and body["new_user"] is True
    reused = _request("POST", f"{url}/v1/auth/login", {"provider": "wechat", "code": minted["code"]})
    assert reused[0] == 401 and reused[2]["code"] == "login_code_rejected"


def test_follow_event_is_delivered_and_bad_input_is_4xx(stack):
    url, _, _ = stack
    token = _request("POST", f"{url}/v1/auth/login", {"provider": "dev", "code": "viewer-1"})[2]["token"]
    status, _, state = _request("PUT", f"{url}/v1/hosts/host-2/follow", token=token)
    assert status == 200 and state["following"] is True
    assert _request("GET", f"{url}/v1/me", token="garbage")[0] == 401
    assert _request("POST", f"{url}/v1/hosts", {"user_id": "viewer-2", "display_name": "x"}, token=token)[0] == 403
    status, headers, problem = _request("POST", f"{url}/v1/auth/login", {"provider": "nope", "code": "x"})
    assert status == 422 and headers["Content-Type"] == "application/problem+json"


def test_stops_cleanly_and_starts_again():
    proc, url, _ = _start_stack()
    assert _request("GET", f"{url}/v1/hosts/host-1")[0] == 200
    out = _stop(proc)
    assert proc.returncode == 0, out
    assert "stopped" in out
    proc2, url2, _ = _start_stack()
    try:
        assert _request("GET", f"{url2}/v1/hosts/host-1")[0] == 200
    finally:
        _stop(proc2)
    assert proc2.returncode == 0

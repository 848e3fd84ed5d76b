"""The web pages on the local stack (local.web_static): which paths are web paths, content types,
the single-page fallback for /watch/<room>, the security headers, no way out of web/dist, and a
clear problem when the pages are not built."""
from __future__ import annotations

import json

import pytest

from local import web_static
from local.loopback import Request


def _request(target: str, method: str = "GET", body: bytes = b"") -> Request:
    return Request(method=method, path=target.partition("?")[0], query={}, body=body, target=target)


@pytest.fixture()
def dist(tmp_path):
    for page in web_static.PAGES:
        (tmp_path / page).mkdir()
        (tmp_path / page / "index.html").write_text(f"<html>{page}</html>")
    (tmp_path / "web-assets").mkdir()
    (tmp_path / "web-assets" / "watch-abc.js").write_text("console.log(1)")
    (tmp_path / "web-assets" / "style-abc.css").write_text("body{}")
    (tmp_path / "secret.txt").write_text("outside the assets")
    return tmp_path


def test_pages_assets_and_headers(dist):
    watch = web_static.serve(_request("/watch/01HROOM?token=abc"), dist)
    assert watch.status == 200 and watch.body == b"<html>watch</html>"
    assert watch.headers["Content-Type"] == "text/html; charset=utf-8"
    csp = watch.headers["Content-Security-Policy"]
    assert "script-src 'self';" in csp and "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert "frame-ancestors 'none'" in csp
    assert watch.headers["Strict-Transport-Security"].startswith("max-age=")
    assert watch.headers["X-Content-Type-Options"] == "nosniff"
    assert web_static.serve(_request("/console/"), dist).body == b"<html>console</html>"
    assert web_static.serve(_request("/ops/?room=1"), dist).body == b"<html>ops</html>"
    redirect = web_static.serve(_request("/ops"), dist)
    assert redirect.status == 301 and redirect.headers["Location"] == "/ops/"
    script = web_static.serve(_request("/web-assets/watch-abc.js"), dist)
    assert script.headers["Content-Type"] == "text/javascript; charset=utf-8"
    assert "immutable" in script.headers["Cache-Control"]
    assert web_static.serve(_request("/web-assets/style-abc.css"), dist).headers["Content-Type"].startswith("text/css")
    head = web_static.serve(_request("/watch/r1", "HEAD"), dist)
    assert head.status == 200 and head.body == b"" and head.headers["Content-Length"] == str(len(b"<html>watch</html>"))
    config = web_static.serve(_request("/config.json"), dist)
    assert json.loads(config.body)["api"] == "" and json.loads(config.body)["local"] is True


def test_api_paths_are_not_web_paths(dist):
    for target in ("/v1/rooms", "/docs", "/openapi.json", "/watchers", "/consoles/x", "/_local/origin-requests"):
        assert web_static.serve(_request(target), dist) is None, target


def test_no_way_out_of_the_assets_and_bad_methods(dist):
    for target in ("/web-assets/../secret.txt", "/web-assets/%2e%2e/secret.txt", "/web-assets/nope.js",
                   "/web-assets/"):
        answer = web_static.serve(_request(target), dist)
        assert answer.status == 404 and json.loads(answer.body)["code"] == "not_found", target
    posted = web_static.serve(_request("/watch/r1", "POST"), dist)
    assert posted.status == 405 and posted.headers["Content-Type"] == "application/problem+json"


def test_not_built_is_a_clear_problem(tmp_path):
    answer = web_static.serve(_request("/watch/r1"), tmp_path)
    assert answer.status == 503 and json.loads(answer.body)["code"] == "web_not_built"


def test_pay_needs_a_trade_and_a_stand_in(monkeypatch):
    monkeypatch.delenv("WECHATPAY_API_BASE", raising=False)
    bad = web_static.serve(_request(web_static.PAY_PATH, "POST", b"{}"))
    assert bad.status == 422 and json.loads(bad.body)["code"] == "validation_error"
    none = web_static.serve(_request(web_static.PAY_PATH, "POST", b'{"out_trade_no": "o1"}'))
    assert none.status == 503 and json.loads(none.body)["code"] == "payments_unavailable"


def test_the_page_urls_make_local_prints_are_the_pages_it_serves(dist):
    from local.stack import web_page_urls

    urls = web_page_urls("http://127.0.0.1:8000")
    assert set(urls) == set(web_static.PAGES)
    for page, url in urls.items():
        path = url.removeprefix("http://127.0.0.1:8000").replace("<room_id>", "room-1")
        reply = web_static.serve(_request(path), dist=dist)
        assert reply is not None and reply.status == 200, (page, path)
        assert f"<html>{page}</html>" in reply.body.decode()

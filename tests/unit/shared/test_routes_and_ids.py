"""Pure rules: route matching (what API Gateway does with resources), ULIDs, problems."""
from __future__ import annotations

import string

from hypothesis import given
from hypothesis import strategies as st

from livecommerce import manifest
from livecommerce.shared import problems
from livecommerce.shared.ids import new_ulid


def test_match_binds_path_parameters():
    route, params = manifest.match("PUT", "/v1/hosts/host-1/follow")
    assert route.key == "PUT /v1/hosts/{host_id}/follow"
    assert params == {"host_id": "host-1"}


def test_match_is_exact_on_method_and_literal_segments():
    assert manifest.match("GET", "/v1/auth/login") is None
    assert manifest.match("POST", "/v1/hosts/x/y/z") is None
    assert manifest.match("GET", "/v1/hosts/") is None
    assert manifest.match("GET", "/v1/me/")[0].key == "GET /v1/me"


def test_route_keys_are_unique_and_functions_exist():
    from pathlib import Path

    keys = [r.key for r in manifest.ROUTES]
    assert len(keys) == len(set(keys))
    root = Path(__file__).resolve().parents[3] / "functions"
    for name in manifest.FUNCTIONS:
        assert (root / name / "handler.py").is_file(), name


@given(st.text(alphabet=string.ascii_letters + string.digits + "-_", min_size=1, max_size=64))
def test_any_host_id_matches_the_profile_route(host_id):
    route, params = manifest.match("GET", f"/v1/hosts/{host_id}")
    assert params == {"host_id": host_id}


def test_ulids_sort_in_creation_order_and_are_unique():
    ids = [new_ulid() for _ in range(5000)]
    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)
    assert all(len(i) == 26 for i in ids)


def test_problem_shape_is_rfc9457_with_code():
    body = problems.Conflict("taken", code="host_exists", retryable=False).to_dict()
    assert body == {"type": problems.PROBLEM_TYPE_BASE + "host_exists", "title": "Conflict",
                    "status": 409, "detail": "taken", "code": "host_exists", "retryable": False}

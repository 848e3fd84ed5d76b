"""livecommerce.shared.bodies: the request body checks the API runs before any handler."""
from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from livecommerce.shared import bodies


def _depth(value) -> int:
    if isinstance(value, dict):
        return 1 + max((_depth(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((_depth(v) for v in value), default=0)
    return 0


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-10 ** 20, 10 ** 20) | st.text(alphabet='[]{}"\\ a中\n', max_size=8),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(alphabet='[]{}"\\a', max_size=4),
                                                                     children, max_size=3),
    max_leaves=30)


@given(json_values, st.integers(0, 8))
def test_depth_is_measured_as_the_parser_sees_it(value, limit):
    text = json.dumps(value, ensure_ascii=False)
    assert bodies.json_depth_exceeds(text, limit) == (_depth(value) > limit)


@given(json_values)
def test_what_passes_parses_to_what_was_sent(value):
    text = json.dumps(value, ensure_ascii=False)
    checked = bodies.check(text.encode(), base64_encoded=False, content_type="application/json")
    assert checked.value == value and checked.text == text


@pytest.mark.parametrize("body,code", [
    ("[" * 100_000 + "]" * 100_000, "malformed_body"),
    ("1" * 31, "malformed_body"),
    ("-" + "1" * 31, "malformed_body"),
    ("1." + "1" * 80, "malformed_body"),
    ("[NaN]", "malformed_json"),
    ("[-Infinity]", "malformed_json"),
    ("[1,]", "malformed_json"),
])
def test_refused_json(body, code):
    with pytest.raises(bodies.BodyRejected) as refused:
        bodies.check(body, base64_encoded=False, content_type=None)
    assert refused.value.problem.code == code


@pytest.mark.parametrize("content_type,ok", [
    ("application/json", True), ("application/json;charset=UTF-8", True), ("application/problem+json", True),
    ("application/+json", False), ("application/x-jsonish", False), ("text/json", False),
    ("application/json; charset=latin-1", False), ("application/json; boundary=x", False),
    ("application/x-www-form-urlencoded", False),
])
def test_json_media_types(content_type, ok):
    if ok:
        assert bodies.check_media_type(content_type, bodies.JSON) == bodies.JSON
    else:
        with pytest.raises(bodies.BodyRejected) as refused:
            bodies.check_media_type(content_type, bodies.JSON)
        assert refused.value.problem.status == 415


def test_forms_are_utf8_all_the_way_down():
    assert bodies.check(b"a=%E4%B8%AD&b=", base64_encoded=False, content_type=bodies.FORM, accepts=bodies.FORM).media_type == bodies.FORM
    for bad in (b"a=%FF", b"a=\xff", "a=b".encode("utf-16")):
        with pytest.raises(bodies.BodyRejected):
            bodies.check(bad, base64_encoded=False, content_type=bodies.FORM, accepts=bodies.FORM)

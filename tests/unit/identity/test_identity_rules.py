"""Identity's pure rules: dev user ids and roles, who may follow whom."""
from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from livecommerce.identity import rules
from livecommerce.shared import problems

ID_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-"


@given(st.text(alphabet=ID_CHARS, min_size=1, max_size=40))
def test_ids_of_letters_digits_dash_underscore_are_dev_user_ids(user_id):
    assert rules.is_dev_user_id(user_id)


@given(st.text(min_size=1, max_size=60).filter(lambda code: not code.endswith("\n")))
def test_anything_else_is_not(code):
    allowed = 1 <= len(code) <= 40 and all(c in ID_CHARS for c in code)
    assert rules.is_dev_user_id(code) == allowed


def test_too_long_or_empty_is_not_a_dev_user_id():
    assert not rules.is_dev_user_id("")
    assert not rules.is_dev_user_id("a" * 41)
    assert not rules.is_dev_user_id("not a user id!")


def test_dev_roles_are_the_seeded_ones_else_viewer_and_a_copy():
    assert rules.dev_roles("operator-1") == ["viewer", "operator"]
    assert rules.dev_roles("host-2") == ["viewer", "host"]
    assert rules.dev_roles("someone") == ["viewer"]
    rules.dev_roles("host-1").append("operator")
    assert rules.dev_roles("host-1") == ["viewer", "host"]


@given(st.text(alphabet=ID_CHARS, min_size=1, max_size=10), st.text(alphabet=ID_CHARS, min_size=1, max_size=10))
def test_only_following_oneself_is_refused(viewer, host):
    if viewer == host:
        with pytest.raises(problems.BadRequest) as refused:
            rules.check_follow(viewer, host)
        assert refused.value.code == "self_follow"
    else:
        rules.check_follow(viewer, host)

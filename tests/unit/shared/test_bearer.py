"""One reading of the Authorization header: Bearer scheme, any case, a non-empty token."""
from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from livecommerce.shared.bearer import authorization, bearer_token

TOKENS = st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126), min_size=1, max_size=60)


def test_reads_a_bearer_token_whatever_the_header_case():
    assert bearer_token({"Authorization": "Bearer abc.def"}) == "abc.def"
    assert bearer_token({"authorization": "bearer abc"}) == "abc"
    assert bearer_token({"AUTHORIZATION": "BEARER  abc  "}) == "abc"


def test_missing_empty_or_other_scheme_is_none():
    assert bearer_token(None) is None
    assert bearer_token({}) is None
    assert bearer_token({"Authorization": ""}) is None
    assert bearer_token({"Authorization": "Bearer"}) is None
    assert bearer_token({"Authorization": "Bearer   "}) is None
    assert bearer_token({"Authorization": "Basic dXNlcjpwdw=="}) is None
    assert bearer_token({"Authorization": "abc.def"}) is None
    assert bearer_token({"X-Authorization": "Bearer abc"}) is None


def test_authorization_is_the_raw_value_or_empty():
    assert authorization({"AuThOrIzAtIoN": "Basic x"}) == "Basic x"
    assert authorization({"Host": "h"}) == ""
    assert authorization({"Authorization": None}) == ""


@given(token=TOKENS, scheme=st.sampled_from(["Bearer", "bearer", "BEARER", "bEaReR"]),
       name=st.sampled_from(["Authorization", "authorization", "AUTHORIZATION"]))
def test_any_bearer_round_trips(token, scheme, name):
    assert bearer_token({name: f"{scheme} {token}"}) == token


@given(scheme=st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=1, max_size=10),
       token=TOKENS)
def test_only_the_bearer_scheme_is_accepted(scheme, token):
    expected = token if scheme.lower() == "bearer" else None
    assert bearer_token({"Authorization": f"{scheme} {token}"}) == expected

"""The assistant grant rule (identity.rules.grant_allows), property-tested."""
from __future__ import annotations

from hypothesis import given, strategies as st

from livecommerce.identity import rules

ids = st.sampled_from(["r1", "r2", "r3"])
hosts = st.sampled_from(["h1", "h2"])
caps = st.sampled_from(rules.ASSISTANT_CAPABILITIES)
grant = st.tuples(hosts, st.one_of(ids, st.just(rules.ALL_ROOMS)), st.frozensets(caps, min_size=1))


@given(st.lists(grant, max_size=5), ids, hosts, caps)
def test_allowed_exactly_when_a_grant_of_that_host_covers_the_room_and_capability(grants, room, host, capability):
    expected = any(h == host and scope in (room, rules.ALL_ROOMS) and capability in c for h, scope, c in grants)
    assert rules.grant_allows(grants, room_id=room, host_id=host, capability=capability) is expected


@given(st.lists(grant, max_size=5), ids, hosts,
       st.sampled_from(["set_prices", "change_stock", "payouts", "name_assistants", ""]))
def test_nothing_outside_the_capabilities_is_ever_allowed(grants, room, host, capability):
    everything = grants + [(host, rules.ALL_ROOMS, frozenset([capability]))]
    assert rules.grant_allows(everything, room_id=room, host_id=host, capability=capability) is False


def test_prices_stock_and_payouts_are_not_capabilities():
    assert not {"set_prices", "stock", "payouts", "prices"} & set(rules.ASSISTANT_CAPABILITIES)

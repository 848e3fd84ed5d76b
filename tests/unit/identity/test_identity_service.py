"""Identity's use cases with the bus as an in-memory fake and the table in moto: follow
counting, hosts, dev logins and their events, written through the outbox."""
from __future__ import annotations

import itertools

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from livecommerce import identity
from livecommerce.identity import events, repository, service
from livecommerce.shared import problems
from livecommerce.shared.api import Caller

OPERATOR = Caller(user_id="operator-1", roles=frozenset({"viewer", "operator"}))
_hosts = itertools.count()


def viewer(user_id: str) -> Caller:
    return Caller(user_id=user_id, roles=frozenset({"viewer"}))


def make_host(fakes, host_id: str | None = None) -> str:
    host_id = host_id or f"host-{next(_hosts)}"
    service.register_dev_user(host_id)
    service.create_host(OPERATOR, user_id=host_id, display_name="Host", intro="hi", avatar=None)
    fakes.events.clear()
    return host_id


def pending(pk: str) -> int:
    return len(list(repository.OUTBOX.model.query(pk, repository.OUTBOX.model.sk.startswith("OUTBOX#"))))


def test_follow_counts_once_and_announces_once(fakes):
    host = make_host(fakes)
    first = service.follow(viewer("v1"), host)
    again = service.follow(viewer("v1"), host)
    assert (first.changed, first.follower_count) == (True, 1)
    assert (again.changed, again.follower_count) == (False, 1)
    assert fakes.of("HostFollowed") == [{**fakes.of("HostFollowed")[0], "host_id": host, "viewer_id": "v1"}]
    parsed = events.HostFollowed.parse(fakes.of("HostFollowed")[0])
    assert (parsed.host_id, parsed.viewer_id) == (host, "v1") and parsed.event_id and parsed.occurred_at
    assert pending(repository.host_pk(host)) == 0  # flushed after the commit


def test_unfollow_counts_down_once_and_never_below_zero(fakes):
    host = make_host(fakes)
    service.follow(viewer("v1"), host)
    gone = service.unfollow(viewer("v1"), host)
    again = service.unfollow(viewer("v1"), host)
    assert (gone.changed, gone.following, gone.follower_count) == (True, False, 0)
    assert (again.changed, again.follower_count) == (False, 0)
    assert [e["viewer_id"] for e in fakes.of("HostUnfollowed")] == ["v1"]


@settings(max_examples=15, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.sampled_from(["follow", "unfollow"]), st.sampled_from(["a", "b", "c"])),
                max_size=12))
def test_the_count_is_the_number_of_followers_whatever_the_order(fakes, steps):
    host = make_host(fakes)
    following: set[str] = set()
    for action, who in steps:
        state = getattr(service, action)(viewer(who), host)
        assert state.changed == ((who not in following) if action == "follow" else (who in following))
        (following.add if action == "follow" else following.discard)(who)
        assert state.follower_count == len(following)
    assert service.get_host(host).follower_count == len(following)
    changes = len(fakes.of("HostFollowed")) - len(fakes.of("HostUnfollowed"))
    assert changes == len(following)
    for who in "abc":
        assert repository.is_following(host, who) == (who in following)


def test_self_follow_and_unknown_hosts_are_refused_without_events(fakes):
    host = make_host(fakes)
    with pytest.raises(problems.BadRequest):
        service.follow(Caller(user_id=host, roles=frozenset({"viewer", "host"})), host)
    with pytest.raises(problems.NotFound):
        service.follow(viewer("v1"), "ghost")
    with pytest.raises(problems.NotFound):
        service.unfollow(viewer("v1"), "ghost")
    assert fakes.events == []


def test_following_count_is_not_confused_by_pending_events(fakes, bus):
    """Follows and pending outbox items share gsi1: a viewer's count reads only USER#<viewer>."""
    hosts = [make_host(fakes) for _ in range(2)]

    def bus_down(*args, **kwargs):
        raise RuntimeError("bus unavailable")

    bus.put = bus_down
    for host in hosts:
        service.follow(viewer("v9"), host)
    assert pending(repository.host_pk(hosts[0])) == 1  # the event waits in the outbox
    assert repository.following_count("v9") == 2
    del bus.put
    assert identity.sweep_outbox(older_than_seconds=-5) == 2
    assert identity.sweep_outbox(older_than_seconds=-5) == 0
    assert sorted(e["host_id"] for e in fakes.of("HostFollowed")) == sorted(hosts)


def test_create_host_grants_the_role_and_announces_it_once(fakes):
    service.register_dev_user("u-host")
    fakes.events.clear()
    host = service.create_host(OPERATOR, user_id="u-host", display_name="Shop", intro=None, avatar=None)
    assert (host.id, host.follower_count) == ("u-host", 0)
    assert "host" in repository.get_user("u-host").roles
    with pytest.raises(problems.Conflict):
        service.create_host(OPERATOR, user_id="u-host", display_name="Shop", intro=None, avatar=None)
    assert fakes.of("HostCreated") == [{**fakes.of("HostCreated")[0], "host_id": "u-host",
                                        "created_by": "operator-1"}]
    with pytest.raises(problems.NotFound):
        service.create_host(OPERATOR, user_id="nobody", display_name="x", intro=None, avatar=None)


def test_dev_login_registers_once_then_only_logs_in(fakes, monkeypatch):
    monkeypatch.setattr(service.tokens, "issue", lambda user_id, roles: (f"token-of-{user_id}", 2_000_000_000))
    first = service.login("dev", "viewer-7")
    second = service.login("dev", "viewer-7")
    assert (first.new_user, second.new_user) == (True, False)
    assert first.token == "token-of-viewer-7" and first.user.roles == ["viewer"]
    assert [kind for kind, _ in fakes.events] == ["UserRegistered", "UserLoggedIn", "UserLoggedIn"]
    registered = events.UserRegistered.parse(fakes.of("UserRegistered")[0])
    assert (registered.user_id, registered.provider) == ("viewer-7", "dev")
    assert {e["provider"] for e in fakes.of("UserLoggedIn")} == {"dev"}
    assert pending(repository.user_pk("viewer-7")) == 0


def test_event_details_are_what_the_producers_sent():
    assert events.HostFollowed(host_id="h", viewer_id="v").detail() == {"host_id": "h", "viewer_id": "v"}
    assert events.UserLoggedIn(user_id="u", provider="wechat").detail() == {"user_id": "u", "provider": "wechat"}
    assert events.HostCreated(host_id="h", created_by="o").detail() == {"host_id": "h", "created_by": "o"}


def test_public_face_returns_views_not_items(fakes):
    host = make_host(fakes)
    found = identity.find_host(host)
    assert isinstance(found, identity.Host) and found.display_name == "Host" and found.intro == "hi"
    assert identity.find_host("ghost") is None
    user = identity.find_user(host)
    assert isinstance(user, identity.User) and "host" in user.roles
    assert identity.nickname("ghost") is None
    assert identity.payer_subject(host, "wechat") is None   # a dev user has no provider subject
    assert identity.register_dev_user(host) is False

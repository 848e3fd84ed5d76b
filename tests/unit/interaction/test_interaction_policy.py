"""IoT policies of the room channel and their evaluation (the local broker's check)."""
from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from livecommerce.interaction import policy, topics

ROOM = "01J0000000000000000000ROOM"[:26].replace("O", "0")


def _docs(user="viewer-1", client="lc-dev-viewer-1-abcdefabcdef"):
    return [policy.viewer_policy(partition="aws", region="ap-northeast-1", account="123456789012", stage="dev",
                                 room_id=ROOM, user_id=user, client_id=client)]


def test_viewer_may_only_receive_the_rooms_topics():
    docs = _docs()
    names = topics.viewer_topics("dev", ROOM, "viewer-1")
    for topic in names.values():
        assert policy.allows(docs, policy.SUBSCRIBE, f"topicfilter/{topic}")
        assert policy.allows(docs, policy.RECEIVE, f"topic/{topic}")
        assert not policy.allows(docs, policy.PUBLISH, f"topic/{topic}")
    assert policy.allows(docs, policy.CONNECT, "client/lc-dev-viewer-1-abcdefabcdef")
    assert not policy.allows(docs, policy.CONNECT, "client/lc-dev-viewer-1-zzzzzzzzzzzz")


@given(st.text(alphabet="abc/+#*?lcdevrooms0123", max_size=40))
def test_wildcard_filters_are_literal(filter_):
    docs = _docs()
    names = set(topics.viewer_topics("dev", ROOM, "viewer-1").values())
    assert policy.allows(docs, policy.SUBSCRIBE, f"topicfilter/{filter_}") == (filter_ in names)


def test_deny_wins_and_wildcards():
    docs = [{"Statement": [{"Effect": "Allow", "Action": "iot:*", "Resource": "arn:aws:iot:*:*:topic/a/*"},
                           {"Effect": "Deny", "Action": ["iot:Receive"], "Resource": "arn:aws:iot:*:*:topic/a/secret"}]}]
    assert policy.allows(docs, policy.RECEIVE, "topic/a/b/c")
    assert not policy.allows(docs, policy.RECEIVE, "topic/a/secret")
    assert not policy.allows(docs, policy.RECEIVE, "topic/b")
    assert not policy.allows([], policy.CONNECT, "client/x")


def test_client_ids_are_namespaced_per_user():
    cid = topics.new_client_id("dev", "viewer-1")
    assert topics.client_id_belongs_to(cid, "dev", "viewer-1")
    assert not topics.client_id_belongs_to(cid, "dev", "viewer")
    assert not topics.client_id_belongs_to(cid, "prod", "viewer-1")
    assert not topics.client_id_belongs_to("lc-dev-viewer-1-short", "dev", "viewer-1")
    assert not topics.valid_ids(ROOM, "a/b") and not topics.valid_ids(ROOM, "a+b") and topics.valid_ids(ROOM, "a-b")


def test_authorizer_reads_mqtt_password_header_and_query():
    import base64

    from livecommerce.interaction.authorizer import credentials, principal_id

    event = {"protocolData": {"mqtt": {"username": f"{ROOM}?x-amz-customauthorizer-name=a",
                                       "password": base64.b64encode(b"tok").decode(), "clientId": "c"}}}
    assert credentials(event) == ("tok", ROOM, "c")
    event = {"protocolData": {"mqtt": {"username": ROOM, "clientId": "c"}, "http": {"queryString": "?token=q"}}}
    assert credentials(event)[0] == "q"
    assert principal_id("viewer-1").isalnum() and principal_id("viewer-1") != principal_id("viewer1")


def test_only_staff_policies_open_the_staff_topic():
    staff = [policy.viewer_policy(partition="aws", region="ap-northeast-1", account="123456789012", stage="dev",
                                  room_id=ROOM, user_id="assistant-1", client_id="lc-dev-assistant-1-abcdefabcdef",
                                  staff=True)]
    topic = topics.staff_topic("dev", ROOM)
    assert topic == f"lc/dev/rooms/{ROOM}/staff"
    assert policy.allows(staff, policy.SUBSCRIBE, f"topicfilter/{topic}")
    assert policy.allows(staff, policy.RECEIVE, f"topic/{topic}")
    assert not policy.allows(staff, policy.PUBLISH, f"topic/{topic}")
    other_room = topics.staff_topic("dev", ROOM[:-1] + "1")
    assert not policy.allows(staff, policy.SUBSCRIBE, f"topicfilter/{other_room}")
    for name in topics.viewer_topics("dev", ROOM, "assistant-1").values():    # and everything a viewer has
        assert policy.allows(staff, policy.SUBSCRIBE, f"topicfilter/{name}")
    viewer = _docs()
    assert not policy.allows(viewer, policy.SUBSCRIBE, f"topicfilter/{topic}")
    assert not policy.allows(viewer, policy.RECEIVE, f"topic/{topic}")

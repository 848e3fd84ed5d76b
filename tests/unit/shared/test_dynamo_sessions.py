"""Every table connection in a thread shares one botocore session (a session per table cost
~11 ms of CPU on each item class's first use in a container); threads keep their own."""
from __future__ import annotations

import threading

from livecommerce.identity.storage import MODELS as IDENTITY_MODELS
from livecommerce.rooms.repository import OUTBOX as ROOMS_OUTBOX
from livecommerce.shared import aws, dynamo
from livecommerce.shared.spec import TableSpec


def _session_of(model, spec) -> object:
    dynamo.bind(model, spec)
    return model._get_connection().connection.session


def test_connections_of_one_thread_share_a_session_and_threads_do_not(monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", "http://127.0.0.1:9")
    a, b = IDENTITY_MODELS[0], ROOMS_OUTBOX.model
    spec_a, spec_b = TableSpec("One", "T_ONE"), TableSpec("Two", "T_TWO")
    monkeypatch.setenv("T_ONE", "one")
    monkeypatch.setenv("T_TWO", "two")
    here = {_session_of(a, spec_a), _session_of(b, spec_b)}
    assert len(here) == 1
    assert a._get_connection().connection.client is not b._get_connection().connection.client   # own clients
    elsewhere: list[object] = []
    thread = threading.Thread(target=lambda: elsewhere.append(b._get_connection().connection.session))
    thread.start()
    thread.join()
    assert elsewhere and elsewhere[0] not in here
    aws.reset_clients()   # forgets them: the next connections get new sessions
    assert _session_of(a, spec_a) not in here
